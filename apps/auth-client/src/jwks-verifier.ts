// Local verification of access tokens against auth's JWKS, cached so that auth being slow or down
// never blocks requests that carry a token signed by a key we already know (docs/auth-service.md).
import { withTimeout, type BreakerOptions, type Metrics } from '@chatcluster/kit';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { guardedCalls, type GuardedCalls } from './breaker.js';
import { KeysUnavailableError, TokenRejectedError } from './errors.js';
import { verifyAccessToken, type AccessTokenClaims, type VerifyOptions } from './verify.js';

export interface JwksVerifierOptions extends VerifyOptions {
  /** e.g. `${AUTH_URL}/.well-known/jwks.json` */
  readonly jwksUrl: string;
  /** Deadline of one JWKS fetch (default 2000 ms). */
  readonly fetchTimeoutMs?: number;
  /** After this age the keys are refreshed in the background while still used (default 5 min). */
  readonly refreshAfterMs?: number;
  /**
   * While auth cannot be reached, cached keys keep verifying tokens for this long after the last
   * successful fetch (default 24 h). Auth down therefore never logs anyone out.
   */
  readonly maxStaleMs?: number;
  /** A token naming an unknown key triggers at most one fetch per this period (default 10 s). */
  readonly unknownKeyCooldownMs?: number;
  /** The kit breaker `auth-jwks` the fetches run through (defaults: opens after 3 failures in a row, for 10 s). */
  readonly breaker?: BreakerOptions;
  /** Where the breaker's state and events are exported. */
  readonly metrics?: Metrics;
  readonly fetch?: typeof fetch;
  /** Told about every fetch outcome (for logs and metrics). */
  readonly onFetch?: (outcome: { ok: boolean; keys?: number; error?: unknown; durationMs: number }) => void;
  readonly now?: () => number;
}

interface CachedSet {
  readonly keys: JSONWebKeySet;
  readonly kids: ReadonlySet<string>;
  readonly getKey: JWTVerifyGetKey;
  readonly fetchedAt: number;
}

/**
 * Verifies access tokens locally against auth's published JWKS. The keys are fetched once, used
 * from memory, refreshed in the background when old, and fetched at once (rate-limited) when a
 * token names a key not seen yet (a rotation). A failing or slow auth service only delays that
 * last case; every token signed by a known key keeps verifying from the stale cache.
 */
export class JwksVerifier {
  private cache: CachedSet | null = null;
  private inflight: Promise<CachedSet> | null = null;
  private lastUnknownKeyFetch = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly calls: GuardedCalls;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: JwksVerifierOptions) {
    this.now = options.now ?? Date.now;
    this.calls = guardedCalls(
      'auth-jwks',
      {
        // Fetches are rare (one per refresh period), so a run of failures opens it, not a percentage.
        consecutiveFailures: 3,
        volumeThreshold: 10,
        resetTimeout: 10_000,
        ...options.breaker,
      },
      options.metrics,
    );
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Stops the breaker's timers (at shutdown). */
  close(): void {
    this.calls.breaker.shutdown();
  }

  /** Fetches the keys ahead of the first token; never throws (a failure is retried on use). */
  async warm(): Promise<boolean> {
    try {
      await this.refresh();
      return true;
    } catch {
      return false;
    }
  }

  /** Verifies the token; TokenRejectedError → 401, KeysUnavailableError → 503. */
  verify(token: string): Promise<AccessTokenClaims> {
    return verifyAccessToken(
      token,
      async (header, jws) => (await this.usable(header.kid))(header, jws),
      this.options,
    );
  }

  /** How old the cached keys are in ms, or null before the first successful fetch. */
  cacheAgeMs(): number | null {
    return this.cache ? this.now() - this.cache.fetchedAt : null;
  }

  /** Fetches the JWKS now (deduplicated with a fetch in flight). */
  refresh(): Promise<CachedSet> {
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async usable(kid: string | undefined): Promise<JWTVerifyGetKey> {
    if (!kid) throw new TokenRejectedError('malformed', 'token header has no kid');
    let set = await this.currentSet();
    if (
      !set.kids.has(kid) &&
      this.now() - this.lastUnknownKeyFetch >= (this.options.unknownKeyCooldownMs ?? 10_000)
    ) {
      this.lastUnknownKeyFetch = this.now();
      set = await this.refresh().catch(() => set);
    }
    if (!set.kids.has(kid)) throw new TokenRejectedError('unknown_key', 'token key is unknown');
    return set.getKey;
  }

  private async currentSet(): Promise<CachedSet> {
    const cached = this.cache;
    if (!cached) {
      try {
        return await this.refresh();
      } catch (err) {
        throw new KeysUnavailableError('no signing keys: the JWKS could not be fetched', { cause: err });
      }
    }
    const age = this.now() - cached.fetchedAt;
    if (age >= (this.options.refreshAfterMs ?? 300_000)) {
      // Stale-while-revalidate: answer with what we have, refresh behind it.
      this.refresh().catch(() => undefined);
      if (age >= (this.options.maxStaleMs ?? 86_400_000)) {
        try {
          return await this.refresh();
        } catch (err) {
          throw new KeysUnavailableError('signing keys are too old and the JWKS could not be fetched', {
            cause: err,
          });
        }
      }
    }
    return cached;
  }

  private async fetchKeys(): Promise<CachedSet> {
    const started = this.now();
    try {
      const keys = await this.calls.run(() =>
        withTimeout(
          this.options.fetchTimeoutMs ?? 2_000,
          async (signal) => {
            const res = await this.fetchImpl(this.options.jwksUrl, {
              signal,
              headers: { accept: 'application/json' },
            });
            if (!res.ok) throw new Error(`JWKS fetch answered ${res.status}`);
            return parseJwks(await res.json());
          },
          { operation: 'JWKS fetch' },
        ),
      );
      const set: CachedSet = {
        keys,
        kids: new Set(keys.keys.map((k) => k.kid!)),
        getKey: createLocalJWKSet(keys),
        fetchedAt: this.now(),
      };
      this.cache = set;
      this.options.onFetch?.({ ok: true, keys: keys.keys.length, durationMs: this.now() - started });
      return set;
    } catch (error) {
      this.options.onFetch?.({ ok: false, error, durationMs: this.now() - started });
      throw error;
    }
  }
}

function parseJwks(body: unknown): JSONWebKeySet {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { keys?: unknown }).keys)) {
    throw new Error('JWKS response has no keys array');
  }
  const keys = (body as { keys: unknown[] }).keys.filter(
    (k): k is JSONWebKeySet['keys'][number] =>
      typeof k === 'object' && k !== null && typeof (k as { kid?: unknown }).kid === 'string',
  );
  if (keys.length === 0) throw new Error('JWKS response has no usable keys');
  return { keys };
}
