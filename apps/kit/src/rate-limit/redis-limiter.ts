// A rate limiter whose state lives in Redis, so a limit holds across every replica (a per-process
// limiter lets a user multiply the limit by the replica count). Atomic scripts on the Redis clock:
// the checks made in one turn of the event loop go together in one call (under load a turn holds
// many users' sends; one round trip each cost more than the check), each over every rule of its
// check, in order. When Redis fails or is slower than `timeoutMs`, the decision is made by the
// per-process limiter instead (and counted): a Redis outage weakens a limit to per replica, never
// lifts it, and never stops chat or logins.
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
 * Checks in order. KEYS: per check, one per rule; ARGV: per check, its number of rules, then per
 * rule its emission interval (ms) and burst. A check counts under every rule only when all allow it.
 * Returns per check {allowed 0|1, waitMs, remaining}.
 */
const CONSUME_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
local k = 0
local a = 1
while ARGV[a] do
  local n = tonumber(ARGV[a])
  local wait = 0
  local remaining = -1
  local tats = {}
  for i = 1, n do
    local interval = tonumber(ARGV[a + 2 * i - 1])
    local tolerance = interval * tonumber(ARGV[a + 2 * i])
    local tat = tonumber(redis.call('GET', KEYS[k + i]) or now)
    if tat < now then tat = now end
    local new_tat = tat + interval
    if new_tat - tolerance - now > wait then wait = new_tat - tolerance - now end
    local left = math.floor((tolerance - (new_tat - now)) / interval)
    if remaining < 0 or left < remaining then remaining = left end
    tats[i] = new_tat
  end
  if wait > 0 then
    out[#out + 1] = 0
    out[#out + 1] = wait
    out[#out + 1] = 0
  else
    for i = 1, n do
      redis.call('SET', KEYS[k + i], tats[i], 'PX', math.ceil(tats[i] - now))
    end
    out[#out + 1] = 1
    out[#out + 1] = 0
    out[#out + 1] = remaining
  end
  k = k + n
  a = a + 2 * n + 1
end
return out
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
  /** Checks waiting for this turn's script call. */
  #pending: { rules: readonly RateLimitRule[]; key: string; resolve: (d: RateLimitDecision) => void }[] = [];

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
  consume(rules: readonly RateLimitRule[], key: string): Promise<RateLimitDecision> {
    if (this.degraded) return Promise.resolve(this.#decideLocally(rules, key));
    return new Promise((resolve) => {
      if (this.#pending.push({ rules, key, resolve }) === 1) setImmediate(() => void this.#consumePending());
    });
  }

  /** Sends the checks of this turn in one script call; each is decided locally if it fails. */
  async #consumePending(): Promise<void> {
    const checks = this.#pending;
    this.#pending = [];
    const keys: string[] = [];
    const args: number[] = [];
    for (const { rules, key } of checks) {
      keys.push(...this.#keys(rules, key));
      args.push(rules.length);
      for (const r of rules) args.push(emissionIntervalMs(r), r.limit);
    }
    let reply: number[];
    try {
      reply = ((await this.#run(consumeScript, keys, args)) as unknown[]).map(Number);
    } catch (err) {
      this.#failed(err);
      for (const { rules, key, resolve } of checks) resolve(this.#decideLocally(rules, key));
      return;
    }
    this.#degraded?.set({ limiter: this.options.name }, 0);
    checks.forEach(({ resolve }, i) => {
      const [allowed, waitMs, remaining] = [reply[3 * i]!, reply[3 * i + 1]!, reply[3 * i + 2]!];
      resolve(
        allowed === 1
          ? { allowed: true, retryAfterSeconds: 0, remaining, source: 'redis' }
          : { allowed: false, retryAfterSeconds: retryAfterSeconds(waitMs), remaining: 0, source: 'redis' },
      );
    });
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

  /**
   * One hash tag per key: a check's keys share a slot. A turn's call spans many users' keys, so the
   * limiter needs one Redis, not a Cluster (as the message service's scripts do).
   */
  #keys(rules: readonly RateLimitRule[], key: string): string[] {
    return rules.map((r) => `${this.options.prefix}:{${key}}:${r.name}`);
  }
}
