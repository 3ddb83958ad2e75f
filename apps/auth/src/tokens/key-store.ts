// The signing keys in memory, reloaded from PostgreSQL, with prepublished rotation (docs/auth-service.md).
import { randomUUID } from 'node:crypto';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import type { Database } from '../db/database.js';
import { currentKey, listPublishedKeys, lockSigningKeys, rotateKey } from '../repositories/signing-keys.js';

export const SIGNING_ALG = 'EdDSA';

interface LoadedKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly activatesAt: number;
  readonly retiredAt: number | null;
}

interface Snapshot {
  readonly keys: readonly LoadedKey[];
  readonly jwks: JSONWebKeySet;
  readonly getKey: JWTVerifyGetKey;
  readonly loadedAt: number;
}

export interface KeyStoreOptions {
  readonly accessTokenTtlSeconds: number;
  /** How often each replica re-reads the keys (default 30 s). */
  readonly reloadIntervalMs?: number;
  /** A key older than this is rotated automatically (default 30 days; 0 disables). */
  readonly rotateAfterSeconds?: number;
  /**
   * A rotated-in key is published this long before it signs (default 600 s), longer than verifiers
   * cache the JWKS, so no verifier meets a token signed by a key it has not fetched.
   */
  readonly prepublishSeconds?: number;
  /** Allowed clock difference between replicas and verifiers (default 60 s). */
  readonly clockSkewSeconds?: number;
  readonly onError?: (err: unknown, what: string) => void;
  readonly onRotate?: (kid: string) => void;
}

async function newKey(): Promise<{ kid: string; alg: string; publicJwk: JWK; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { crv: 'Ed25519', extractable: true });
  const kid = randomUUID();
  return {
    kid,
    alg: SIGNING_ALG,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG },
  };
}

/**
 * The JWT signing keys, kept in PostgreSQL so every replica signs with the same key and publishes
 * the same JWKS. Each replica holds them in memory and re-reads them periodically; signing never
 * waits for the database. Rotation inserts a new key that signs from `activates_at` (published
 * before that) and keeps the old one published until its last token has expired.
 */
export class KeyStore {
  private snapshot: Snapshot | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Database,
    private readonly options: KeyStoreOptions,
  ) {}

  /** Makes sure a key exists, loads the keys and starts the periodic reload. */
  async start(): Promise<void> {
    await this.db.write('signing_keys.ensure', async (sql) => {
      await lockSigningKeys(sql);
      if (!(await currentKey(sql))) await rotateKey(sql, await newKey(), 0, 0);
    });
    await this.reload();
    const interval = this.options.reloadIntervalMs ?? 30_000;
    this.timer = setInterval(() => {
      this.tick().catch((err: unknown) => this.options.onError?.(err, 'signing key reload'));
    }, interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Re-reads the published keys from PostgreSQL. */
  async reload(): Promise<void> {
    const rows = await this.db.read('signing_keys.list', listPublishedKeys);
    const keys = await Promise.all(
      rows.map(async (r): Promise<LoadedKey> => ({
        kid: r.kid,
        alg: r.alg,
        privateKey: (await importJWK(r.privateJwk, r.alg)) as CryptoKey,
        publicJwk: r.publicJwk,
        activatesAt: r.activatesAt.getTime(),
        retiredAt: r.retiredAt?.getTime() ?? null,
      })),
    );
    const jwks: JSONWebKeySet = { keys: keys.map((k) => k.publicJwk) };
    this.snapshot = { keys, jwks, getKey: createLocalJWKSet(jwks), loadedAt: Date.now() };
  }

  /**
   * Starts a new key: published now, signing after `activateInSeconds` (default: the prepublish
   * period). The current key signs until then and stays published for one token lifetime more.
   */
  async rotate(activateInSeconds = this.options.prepublishSeconds ?? 600): Promise<string> {
    const key = await newKey();
    await this.db.write('signing_keys.rotate', async (sql) => {
      await lockSigningKeys(sql);
      // With no key yet there is nothing to prepublish against: the first key signs at once.
      const delay = (await currentKey(sql)) ? activateInSeconds : 0;
      await rotateKey(sql, key, delay, this.keepPublishedSeconds());
    });
    await this.reload();
    this.options.onRotate?.(key.kid);
    return key.kid;
  }

  /** The key to sign with now: the newest activated key that is not retired yet. */
  signingKey(now = Date.now()): { kid: string; alg: string; privateKey: CryptoKey } {
    const snapshot = this.requireSnapshot();
    const usable = snapshot.keys
      .filter((k) => k.activatesAt <= now && (k.retiredAt === null || k.retiredAt > now))
      .sort((a, b) => b.activatesAt - a.activatesAt);
    // Clock skew can put `now` a hair before a fresh key's activation: fall back to the newest
    // activated key, which is still published.
    const key =
      usable[0] ??
      snapshot.keys.filter((k) => k.activatesAt <= now).sort((a, b) => b.activatesAt - a.activatesAt)[0] ??
      snapshot.keys[0];
    if (!key) throw new Error('no signing key loaded');
    return { kid: key.kid, alg: key.alg, privateKey: key.privateKey };
  }

  /** The public keys for /.well-known/jwks.json. */
  jwks(): JSONWebKeySet {
    return this.requireSnapshot().jwks;
  }

  /** A jose key resolver over the published keys (auth verifies its own tokens with it). */
  getKey(): JWTVerifyGetKey {
    return this.requireSnapshot().getKey;
  }

  /** Seconds a retired key stays published: a token lifetime plus reload lag plus clock skew. */
  private keepPublishedSeconds(): number {
    return (
      this.options.accessTokenTtlSeconds +
      Math.ceil((this.options.reloadIntervalMs ?? 30_000) / 1000) +
      (this.options.clockSkewSeconds ?? 60)
    );
  }

  private async tick(): Promise<void> {
    const rotateAfter = this.options.rotateAfterSeconds ?? 30 * 86_400;
    const current = rotateAfter > 0 ? await this.db.read('signing_keys.current', currentKey) : null;
    if (current && current.ageSeconds >= rotateAfter) {
      const rotated = await this.db.write('signing_keys.auto_rotate', async (sql) => {
        await lockSigningKeys(sql);
        const latest = await currentKey(sql); // another replica may have rotated meanwhile
        if (latest && latest.ageSeconds < rotateAfter) return null;
        const key = await newKey();
        await rotateKey(sql, key, this.options.prepublishSeconds ?? 600, this.keepPublishedSeconds());
        return key.kid;
      });
      if (rotated) this.options.onRotate?.(rotated);
    }
    await this.reload();
  }

  private requireSnapshot(): Snapshot {
    if (!this.snapshot) throw new Error('key store not started');
    return this.snapshot;
  }
}
