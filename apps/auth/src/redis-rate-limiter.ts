/**
 * A rate limiter whose state lives in Redis, so a limit holds across every replica (a per-process
 * limiter lets an attacker multiply the limit by the replica count). GCRA, the token bucket's
 * exact arithmetic twin: `limit` requests at once, then one per `windowSeconds / limit`.
 *
 * When Redis fails or is slow, decisions fall back to an in-process limiter with the same rule,
 * so a Redis outage weakens the limit (per replica instead of global) but never lifts it and
 * never blocks logins.
 *
 * The Redis client is expected to fail fast (a command timeout, no offline queue) so a slow or
 * absent Redis costs a login little. Generic, not auth-specific: a candidate for the kit.
 */

export interface RateLimitRule {
  /** Names the limit in keys and metrics, e.g. `login-ip`. */
  readonly name: string;
  /** Requests allowed in a burst, and per window on average. */
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Seconds until the next request would be allowed (0 when allowed). */
  readonly retryAfterSeconds: number;
  /** Requests still allowed right now. */
  readonly remaining: number;
  /** Where the decision was made. */
  readonly source: 'redis' | 'local';
}

/** The subset of an ioredis client used here. */
export interface LimiterRedis {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
}

export interface RedisRateLimiterOptions {
  /** Key prefix, e.g. `chat:auth:ratelimit`. */
  readonly prefix: string;
  readonly onRedisError?: (err: unknown) => void;
  /** Largest number of keys the local fallback tracks (default 100 000). */
  readonly localMaxKeys?: number;
}

/**
 * KEYS[1] key; ARGV[1] emission interval ms; ARGV[2] burst (limit).
 * Returns {allowed 0|1, retryAfterMs, remaining}. Uses the Redis clock, shared by all replicas.
 */
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - tolerance
if allow_at > now then
  return {0, allow_at - now, 0}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now))
return {1, 0, math.floor((tolerance - (new_tat - now)) / interval)}
`;

function emissionIntervalMs(rule: RateLimitRule): number {
  // Whole milliseconds keep the arithmetic exact in Redis's Lua; rounding up only tightens the limit.
  return Math.ceil((rule.windowSeconds * 1000) / rule.limit);
}

/** The same GCRA in process memory: the fallback when Redis cannot answer. */
export class LocalRateLimiter {
  private readonly tats = new Map<string, number>();

  constructor(private readonly maxKeys = 100_000) {}

  consume(rule: RateLimitRule, key: string, now = Date.now()): RateLimitDecision {
    const interval = emissionIntervalMs(rule);
    const tolerance = interval * rule.limit;
    const id = `${rule.name}:${key}`;
    const tat = Math.max(this.tats.get(id) ?? now, now);
    const newTat = tat + interval;
    const allowAt = newTat - tolerance;
    if (allowAt > now) {
      return {
        allowed: false,
        retryAfterSeconds: Math.ceil((allowAt - now) / 1000),
        remaining: 0,
        source: 'local',
      };
    }
    this.tats.delete(id); // re-insert at the end: Map order doubles as least-recently-used order
    this.tats.set(id, newTat);
    if (this.tats.size > this.maxKeys) this.sweep(now);
    return {
      allowed: true,
      retryAfterSeconds: 0,
      remaining: Math.floor((tolerance - (newTat - now)) / interval),
      source: 'local',
    };
  }

  reset(rule: RateLimitRule, key: string): void {
    this.tats.delete(`${rule.name}:${key}`);
  }

  private sweep(now: number): void {
    for (const [id, tat] of this.tats) {
      if (tat <= now || this.tats.size > this.maxKeys) this.tats.delete(id);
      else break;
    }
  }
}

export class RedisRateLimiter {
  private readonly local: LocalRateLimiter;

  constructor(
    private readonly redis: LimiterRedis,
    private readonly options: RedisRateLimiterOptions,
  ) {
    this.local = new LocalRateLimiter(options.localMaxKeys);
  }

  /** Counts one request against `key` under `rule` and says whether it may proceed. */
  async consume(rule: RateLimitRule, key: string): Promise<RateLimitDecision> {
    try {
      const reply = await this.redis.eval(
        GCRA_SCRIPT,
        1,
        this.key(rule, key),
        emissionIntervalMs(rule),
        rule.limit,
      );
      const [allowed, retryAfterMs, remaining] = (reply as [number, number, number]).map(Number) as [
        number,
        number,
        number,
      ];
      return {
        allowed: allowed === 1,
        retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil(retryAfterMs / 1000)),
        remaining,
        source: 'redis',
      };
    } catch (err) {
      this.options.onRedisError?.(err);
      return this.local.consume(rule, key);
    }
  }

  /** Forgets `key`'s usage (e.g. after a successful login). Best effort. */
  async reset(rule: RateLimitRule, key: string): Promise<void> {
    this.local.reset(rule, key);
    try {
      await this.redis.del(this.key(rule, key));
    } catch (err) {
      this.options.onRedisError?.(err);
    }
  }

  private key(rule: RateLimitRule, key: string): string {
    return `${this.options.prefix}:${rule.name}:${key}`;
  }
}
