// The signing keys in memory, reloaded from PostgreSQL, with prepublished rotation and private keys
// sealed at rest (docs/auth-service.md).
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
import type { Database, Sql } from '../db/database.js';
import {
  currentKey,
  keysToSeal,
  listPublishedKeys,
  lockSigningKeys,
  rotateKey,
  storeSealedKey,
  type StoredPrivateKey,
} from '../repositories/signing-keys.js';
import type { KeyEncryptionKeys } from './key-encryption.js';

export const SIGNING_ALG = 'EdDSA';

interface LoadedKey {
  readonly kid: string;
  readonly alg: string;
  /** null when this replica cannot open it (its key-encryption key is not configured here). */
  readonly privateKey: CryptoKey | null;
  /** Why `privateKey` is null. */
  readonly openError?: string;
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
  /**
   * Seals private keys at rest. Without it keys are stored in plaintext, which only development
   * allows (the service refuses to start in production without KEY_ENCRYPTION_KEYS).
   */
  readonly keyEncryption?: KeyEncryptionKeys;
  readonly onError?: (err: unknown, what: string) => void;
  readonly onRotate?: (kid: string) => void;
}

/** Which stored keys `sealStoredKeys` seals: plaintext ones, or also those wrapped by an older KEK. */
export type SealScope = 'plaintext' | 'all';

/**
 * Seals every plaintext private key under the active key-encryption key and, with scope 'all',
 * rewraps the data keys wrapped by any other configured KEK. Run inside the signing-keys lock.
 */
export async function sealStoredKeys(
  sql: Sql,
  kek: KeyEncryptionKeys,
  scope: SealScope,
): Promise<{ sealed: string[]; rewrapped: string[] }> {
  const done = { sealed: [] as string[], rewrapped: [] as string[] };
  for (const row of await keysToSeal(sql, kek.activeId)) {
    if ('plain' in row.privateKey) {
      await storeSealedKey(sql, row.kid, kek.seal(row.kid, row.privateKey.plain));
      done.sealed.push(row.kid);
    } else if (scope === 'all') {
      await storeSealedKey(sql, row.kid, kek.rewrap(row.kid, row.privateKey.sealed));
      done.rewrapped.push(row.kid);
    }
  }
  return done;
}

async function newKey(
  kek: KeyEncryptionKeys | undefined,
): Promise<{ kid: string; alg: string; publicJwk: JWK; privateKey: StoredPrivateKey }> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { crv: 'Ed25519', extractable: true });
  const kid = randomUUID();
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG };
  return {
    kid,
    alg: SIGNING_ALG,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' },
    privateKey: kek ? { sealed: kek.seal(kid, privateJwk) } : { plain: privateJwk },
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

  /**
   * Seals plaintext keys (the data step of migration 4), makes sure a key exists, loads the keys
   * and starts the periodic reload. Fails when the key that signs now cannot be opened: a replica
   * without the key-encryption key must not serve.
   */
  async start(): Promise<void> {
    const kek = this.options.keyEncryption;
    await this.db.write('signing_keys.ensure', async (sql) => {
      await lockSigningKeys(sql);
      if (kek) await sealStoredKeys(sql, kek, 'plaintext');
      if (!(await currentKey(sql))) await rotateKey(sql, await newKey(kek), 0, 0);
    });
    await this.reload();
    this.signingKey();
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

  /**
   * Re-reads the published keys from PostgreSQL. A private key this replica cannot open (sealed
   * under a KEK it does not have) is still published, but cannot sign; the error is reported.
   */
  async reload(): Promise<void> {
    const rows = await this.db.read('signing_keys.list', listPublishedKeys);
    const keys = await Promise.all(
      rows.map(async (r): Promise<LoadedKey> => {
        let privateKey: CryptoKey | null = null;
        let openError: string | undefined;
        try {
          privateKey = (await importJWK(this.privateJwk(r.kid, r.privateKey), r.alg)) as CryptoKey;
        } catch (err) {
          openError = err instanceof Error ? err.message : String(err);
          this.options.onError?.(err, `opening signing key ${r.kid}`);
        }
        return {
          kid: r.kid,
          alg: r.alg,
          privateKey,
          ...(openError === undefined ? {} : { openError }),
          publicJwk: r.publicJwk,
          activatesAt: r.activatesAt.getTime(),
          retiredAt: r.retiredAt?.getTime() ?? null,
        };
      }),
    );
    const jwks: JSONWebKeySet = { keys: keys.map((k) => k.publicJwk) };
    this.snapshot = { keys, jwks, getKey: createLocalJWKSet(jwks), loadedAt: Date.now() };
  }

  /**
   * Starts a new key: published now, signing after `activateInSeconds` (default: the prepublish
   * period). The current key signs until then and stays published for one token lifetime more.
   */
  async rotate(activateInSeconds = this.options.prepublishSeconds ?? 600): Promise<string> {
    const key = await newKey(this.options.keyEncryption);
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
    if (!key.privateKey) throw new Error(`cannot sign: ${key.openError ?? `key ${key.kid} not opened`}`);
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
        const key = await newKey(this.options.keyEncryption);
        await rotateKey(sql, key, this.options.prepublishSeconds ?? 600, this.keepPublishedSeconds());
        return key.kid;
      });
      if (rotated) this.options.onRotate?.(rotated);
    }
    await this.reload();
  }

  private privateJwk(kid: string, stored: StoredPrivateKey): JWK {
    if ('plain' in stored) return stored.plain;
    const kek = this.options.keyEncryption;
    if (!kek) {
      throw new Error(
        `signing key ${kid} is sealed under key-encryption key ${stored.sealed.kekId}, and KEY_ENCRYPTION_KEYS is not set`,
      );
    }
    return kek.open(kid, stored.sealed);
  }

  private requireSnapshot(): Snapshot {
    if (!this.snapshot) throw new Error('key store not started');
    return this.snapshot;
  }
}
