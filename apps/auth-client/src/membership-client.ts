// Membership lookups for the message and notification services: the shared Redis cache first, then
// auth's internal API behind a deadline and a breaker.
import { withTimeout, type BreakerOptions, type Metrics } from '@chatcluster/kit';
import { guardedCalls, type GuardedCalls } from './breaker.js';
import { AuthUnavailableError } from './errors.js';
import {
  MEMBERSHIP_TTL_SECONDS,
  readMembershipCache,
  writeMembershipCache,
  type CacheRedis,
  type MembershipAnswer,
} from './membership-cache.js';

export interface MembershipClientOptions {
  /** Base URL of the auth service, e.g. http://auth:8081 */
  readonly authUrl: string;
  /** The shared Redis; null runs without cache (every lookup asks auth). */
  readonly redis: CacheRedis | null;
  /** Deadline of one call to auth (default 1000 ms). */
  readonly timeoutMs?: number;
  /** The kit breaker `auth-membership` calls to auth run through (defaults: opens for 5 s after 5 failures in a row or half of 20+ calls in 10 s; 4xx answers do not count). */
  readonly breaker?: BreakerOptions;
  /** Where the breaker's state and events are exported. */
  readonly metrics?: Metrics;
  /** Sent as `Authorization: Bearer …` when auth's internal API requires a token. */
  readonly internalToken?: string;
  readonly ttlSeconds?: number;
  readonly fetch?: typeof fetch;
  /** Told when Redis fails (the lookup then goes to auth). */
  readonly onCacheError?: (err: unknown) => void;
}

export interface ChannelMember {
  readonly userId: string;
  readonly username: string;
  readonly displayName: string;
  readonly email: string;
  readonly role: 'owner' | 'member';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Auth answered, but with a 4xx: a problem with the request (or the token), not auth being down. */
class RefusedByAuth extends Error {
  constructor(
    readonly status: number,
    path: string,
  ) {
    super(`auth answered ${status} for ${path}`);
  }
}

/**
 * Membership lookups for the message and notification services: Redis first, then auth's internal
 * API with a timeout and a breaker, filling the cache (versioned, so a concurrent change is never
 * overwritten by an older answer). AuthUnavailableError when auth cannot answer and the cache has
 * nothing: the caller answers 503 and the client retries.
 */
export class MembershipClient {
  private readonly calls: GuardedCalls;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: MembershipClientOptions) {
    this.calls = guardedCalls(
      'auth-membership',
      {
        consecutiveFailures: 5,
        errorThresholdPercentage: 50,
        volumeThreshold: 20,
        resetTimeout: 5_000,
        // A 4xx is auth working as intended; only timeouts, errors and 5xx count against it.
        isFailure: (err) => !(err instanceof RefusedByAuth),
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

  async lookup(channelId: string, userId: string): Promise<MembershipAnswer> {
    if (!UUID.test(channelId) || !UUID.test(userId)) {
      return {
        channelId,
        userId,
        member: false,
        role: null,
        channel: 'missing',
        visibility: null,
        version: 0,
      };
    }
    const redis = this.options.redis;
    if (redis) {
      try {
        const cached = await readMembershipCache(redis, channelId, userId);
        if (cached) return cached;
      } catch (err) {
        this.options.onCacheError?.(err);
      }
    }
    const answer = (await this.call<MembershipAnswer>(
      `/internal/v1/channels/${channelId}/members/${userId}`,
    ))!;
    if (redis) {
      await writeMembershipCache(redis, answer, this.options.ttlSeconds ?? MEMBERSHIP_TTL_SECONDS).catch(
        (err: unknown) => this.options.onCacheError?.(err),
      );
    }
    return answer;
  }

  /** Every active member of the channel (follows pagination); empty for a deleted or unknown channel. */
  async listMembers(channelId: string): Promise<ChannelMember[]> {
    if (!UUID.test(channelId)) return [];
    const members: ChannelMember[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
      const page: { members: ChannelMember[]; nextCursor: string | null } | null = await this.call(
        `/internal/v1/channels/${channelId}/members${query}`,
        true,
      );
      if (!page) return []; // no such channel
      members.push(...page.members);
      cursor = page.nextCursor;
    } while (cursor);
    return members;
  }

  /** GETs `path` from auth; null for a 404 when `notFoundIsNull`. */
  private async call<T>(path: string, notFoundIsNull = false): Promise<T | null> {
    const url = new URL(path, this.options.authUrl);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.internalToken) headers['authorization'] = `Bearer ${this.options.internalToken}`;
    try {
      return await this.calls.run(() =>
        withTimeout(
          this.options.timeoutMs ?? 1_000,
          async (signal) => {
            const res = await this.fetchImpl(url, { headers, signal });
            if (res.status === 404 && notFoundIsNull) return null;
            if (res.status >= 400 && res.status < 500) throw new RefusedByAuth(res.status, url.pathname);
            if (!res.ok) throw new Error(`auth answered ${res.status} for ${url.pathname}`);
            return (await res.json()) as T;
          },
          { operation: 'auth membership lookup' },
        ),
      );
    } catch (err) {
      throw new AuthUnavailableError(`auth lookup failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
