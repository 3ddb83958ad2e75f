// A rate limiter whose state lives in Redis, so a limit holds across every replica (a per-process
// limiter lets a user multiply the limit by the replica count). One atomic script per check, over
// every rule of the check, on the Redis clock. When Redis fails or is slower than `timeoutMs`, the
// decision is made by the per-process limiter instead (and counted): a Redis outage weakens a limit
// to per replica, never lifts it, and never stops chat or logins.
import { createHash } from 'node:crypto';
import type { Metrics } from '../metrics.js';
import { withTimeout } from '../resilience/timeout.js';
import {
  emissionIntervalMs,
  LocalRateLimiter,
  retryAfterSeconds,
  type RateLimitDecision,
  type RateLimitRule,
} from './gcra.js';

/** The subset of an ioredis client used here (it should fail fast: no offline queue). */
export interface RateLimitRedis {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
}

export interface RedisRateLimiterOptions {
  /** Names the limiter in metrics, e.g. `send`. */
  readonly name: string;
  /** Key prefix, e.g. `chat:ratelimit:message`. */
  readonly prefix: string;
  /** A check slower than this is decided locally (default 100 ms). */
  readonly timeoutMs?: number;
  /** After a failure, decide locally for this long before asking Redis again (default 1 s). */
  readonly retryRedisAfterMs?: number;
  /** Largest number of keys the local fallback tracks (default 100 000). */
  readonly localMaxKeys?: number;
  readonly metrics?: Metrics;
  readonly onRedisError?: (err: unknown) => void;
}

/**
 * KEYS: one per rule; ARGV: per rule, its emission interval (ms) and burst. Counts the request under
 * every rule only when all allow it. Returns {allowed 0|1, waitMs, remaining}.
 */
const CONSUME_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local remaining = -1
local tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = interval * tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  if new_tat - tolerance - now > wait then wait = new_tat - tolerance - now end
  local left = math.floor((tolerance - (new_tat - now)) / interval)
  if remaining < 0 or left < remaining then remaining = left end
  tats[i] = new_tat
end
if wait > 0 then return {0, wait, 0} end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], tats[i], 'PX', math.ceil(tats[i] - now))
end
return {1, 0, remaining}
`;

/** KEYS: one per rule; ARGV: their emission intervals. Gives back one request under each rule. */
const REFUND_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat then
    local back = tat - tonumber(ARGV[i])
    if back <= now then redis.call('DEL', KEYS[i])
    else redis.call('SET', KEYS[i], back, 'PX', math.ceil(back - now)) end
  end
end
return 1
`;

interface Script {
  readonly source: string;
  readonly sha: string;
}
const script = (source: string): Script => ({
  source,
  sha: createHash('sha1').update(source).digest('hex'),
});
const consumeScript = script(CONSUME_SCRIPT);
const refundScript = script(REFUND_SCRIPT);

export class RedisRateLimiter {
  readonly #local: LocalRateLimiter;
  readonly #timeoutMs: number;
  readonly #retryRedisAfterMs: number;
  /** Until then, decisions are local (Redis failed recently). */
  #localUntil = 0;
  readonly #localDecisions;
  readonly #degraded;

  constructor(
    private readonly redis: RateLimitRedis,
    private readonly options: RedisRateLimiterOptions,
  ) {
    this.#local = new LocalRateLimiter(options.localMaxKeys);
    this.#timeoutMs = options.timeoutMs ?? 100;
    this.#retryRedisAfterMs = options.retryRedisAfterMs ?? 1_000;
    this.#localDecisions = options.metrics?.counter(
      'rate_limit_local_decisions_total',
      'Rate-limit decisions made by this process alone because Redis failed or was slow (per replica, not global).',
      ['limiter'],
    );
    this.#degraded = options.metrics?.gauge(
      'rate_limit_degraded',
      '1 while this limiter decides in process because Redis failed or was slow.',
      ['limiter'],
    );
    this.#degraded?.set({ limiter: options.name }, 0);
  }

  /** True while decisions are made in process. */
  get degraded(): boolean {
    return Date.now() < this.#localUntil;
  }

  /** Counts one request against `key` under every rule, and says whether it may proceed. */
  async consume(rules: readonly RateLimitRule[], key: string): Promise<RateLimitDecision> {
    if (this.degraded) return this.#decideLocally(rules, key);
    try {
      const args = rules.flatMap((r) => [emissionIntervalMs(r), r.limit]);
      const reply = await this.#run(consumeScript, this.#keys(rules, key), args);
      const [allowed, waitMs, remaining] = (reply as unknown[]).map(Number) as [number, number, number];
      this.#degraded?.set({ limiter: this.options.name }, 0);
      return allowed === 1
        ? { allowed: true, retryAfterSeconds: 0, remaining, source: 'redis' }
        : { allowed: false, retryAfterSeconds: retryAfterSeconds(waitMs), remaining: 0, source: 'redis' };
    } catch (err) {
      this.#failed(err);
      return this.#decideLocally(rules, key);
    }
  }

  /** Gives back the request of a call that failed on the service's side. Best effort. */
  async refund(rules: readonly RateLimitRule[], key: string): Promise<void> {
    this.#local.refund(rules, key);
    if (this.degraded) return;
    await this.#run(refundScript, this.#keys(rules, key), rules.map(emissionIntervalMs)).catch(
      (err: unknown) => this.#failed(err),
    );
  }

  /** Forgets `key`'s usage (e.g. after a successful login). Best effort. */
  async reset(rules: readonly RateLimitRule[], key: string): Promise<void> {
    this.#local.reset(rules, key);
    await withTimeout(this.#timeoutMs, () => this.redis.del(...this.#keys(rules, key)), {
      operation: 'rate limit reset',
    }).catch((err: unknown) => this.#failed(err));
  }

  #decideLocally(rules: readonly RateLimitRule[], key: string): RateLimitDecision {
    this.#localDecisions?.inc({ limiter: this.options.name });
    return this.#local.consume(rules, key);
  }

  #failed(err: unknown): void {
    this.#localUntil = Date.now() + this.#retryRedisAfterMs;
    this.#degraded?.set({ limiter: this.options.name }, 1);
    this.options.onRedisError?.(err);
  }

  /** EVALSHA, and EVAL (which also caches the script) when this Redis does not know it yet. */
  #run(s: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    return withTimeout(
      this.#timeoutMs,
      async () => {
        try {
          return await this.redis.evalsha(s.sha, keys.length, ...keys, ...args);
        } catch (err) {
          if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
          return await this.redis.eval(s.source, keys.length, ...keys, ...args);
        }
      },
      { operation: `rate limit ${this.options.name}` },
    );
  }

  /** One hash tag per key, so every rule's key of a check lands in one Redis Cluster slot. */
  #keys(rules: readonly RateLimitRule[], key: string): string[] {
    return rules.map((r) => `${this.options.prefix}:{${key}}:${r.name}`);
  }
}
