// OAuth 2 access tokens for FCM from a Google service account (RFC 7523 JWT bearer grant, as Google's
// server-to-server flow): a JWT signed RS256 with the account's private key is exchanged at the token
// endpoint for a token that lives about an hour. Tokens are cached, refreshed ahead of their expiry,
// and dropped on demand when the provider refuses one (401), so a send is never made with a token
// known to be dead.
import { createSign } from 'node:crypto';
import { ProviderError } from './provider-error.js';
import { jsonOf } from './http.js';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** The fields of a service-account key file (JSON) this flow uses. */
export interface ServiceAccountKey {
  readonly client_email: string;
  readonly private_key: string;
  /** Google's key files name their token endpoint; GOOGLE_TOKEN_URL when absent. */
  readonly token_uri?: string;
}

/** Parses a service-account key file, naming the missing field instead of failing later. */
export function parseServiceAccountKey(text: string): ServiceAccountKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new TypeError('not JSON: expected a Google service-account key file');
  }
  const key = parsed as Record<string, unknown>;
  for (const field of ['client_email', 'private_key'] as const) {
    if (typeof key[field] !== 'string' || key[field] === '')
      throw new TypeError(`the service-account key has no ${field}`);
  }
  if (key['token_uri'] !== undefined && typeof key['token_uri'] !== 'string')
    throw new TypeError('the service-account key has a token_uri that is not a string');
  return key as unknown as ServiceAccountKey;
}

export interface OAuthTokenSourceOptions {
  readonly key: ServiceAccountKey;
  /** Overrides the key's token_uri (a stand-in in tests). */
  readonly tokenUrl?: string;
  readonly scope?: string;
  /**
   * A token is replaced once less than this remains of its life (at most half its life), so a send
   * in flight never carries a token that expires on the way. Default 5 minutes.
   */
  readonly refreshMarginMs?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

interface Cached {
  readonly token: string;
  readonly expiresAt: number;
  readonly refreshAt: number;
}

/** Where the FCM client gets its bearer token: a fixed one, or a refreshing source. */
export interface AccessTokens {
  /** A token valid now. */
  get(signal: AbortSignal): Promise<string>;
  /**
   * The provider refused `token` (401): forget it so the next get() fetches another. Returns false
   * when no other token can be had (a fixed token), so the caller does not retry in vain.
   */
  invalidate(token: string): boolean;
}

export class FixedAccessToken implements AccessTokens {
  constructor(private readonly token: string) {}
  get(): Promise<string> {
    return Promise.resolve(this.token);
  }
  invalidate(): boolean {
    return false;
  }
}

export class OAuthTokenSource implements AccessTokens {
  private cached: Cached | undefined;
  /** One exchange at a time: concurrent sends share it instead of each asking the endpoint. */
  private inFlight: Promise<Cached> | undefined;
  private readonly tokenUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: OAuthTokenSourceOptions) {
    this.tokenUrl = options.tokenUrl ?? options.key.token_uri ?? GOOGLE_TOKEN_URL;
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  async get(signal: AbortSignal): Promise<string> {
    const cached = this.cached;
    const now = this.now();
    if (cached && now < cached.refreshAt) return cached.token;
    try {
      return (await this.exchange(signal)).token;
    } catch (err) {
      // Refreshing early failed: the old token still works until it expires.
      if (cached && now < cached.expiresAt && !signal.aborted) return cached.token;
      throw err;
    }
  }

  invalidate(token: string): boolean {
    if (this.cached?.token === token) this.cached = undefined;
    return true;
  }

  private exchange(signal: AbortSignal): Promise<Cached> {
    // The shared exchange is not tied to one caller's signal: another caller may still want it.
    this.inFlight ??= this.request().finally(() => (this.inFlight = undefined));
    return new Promise<Cached>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.inFlight!.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async request(): Promise<Cached> {
    const issuedAt = Math.floor(this.now() / 1000);
    const assertion = signedJwt(this.options.key, {
      iss: this.options.key.client_email,
      scope: this.options.scope ?? FCM_SCOPE,
      aud: this.tokenUrl,
      iat: issuedAt,
      exp: issuedAt + 3600,
    });
    let res: Response;
    try {
      res = await this.fetchImpl(this.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
          assertion,
        }).toString(),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new ProviderError('fcm', 'retryable', `fcm oauth: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    const body = (jsonOf(text) ?? {}) as {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
      error_description?: unknown;
    };
    if (res.status !== 200 || typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      // 400/401 (invalid_grant: a revoked or wrong key) are our credentials; 5xx and 429 pass.
      const failure = res.status === 429 || res.status >= 500 ? 'retryable' : 'credentials';
      const stringOf = (value: unknown) => (typeof value === 'string' ? value : '');
      throw new ProviderError(
        'fcm',
        failure,
        `fcm oauth answered ${res.status}: ${stringOf(body.error)} ${stringOf(body.error_description) || text.slice(0, 200)}`.trim(),
        { status: res.status },
      );
    }
    const now = this.now();
    const lifeMs = body.expires_in * 1000;
    const margin = Math.min(this.options.refreshMarginMs ?? 300_000, lifeMs / 2);
    this.cached = { token: body.access_token, expiresAt: now + lifeMs, refreshAt: now + lifeMs - margin };
    return this.cached;
  }
}

function signedJwt(key: ServiceAccountKey, claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(key.private_key, 'base64url');
  return `${unsigned}.${signature}`;
}
