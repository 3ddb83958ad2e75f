// Rate-limit rules and their arithmetic, GCRA (the token bucket's exact twin: `limit` at once, then
// one per `windowMs / limit`), kept in process memory. The Redis limiter runs the same arithmetic in
// a script and falls back to this one when Redis cannot answer.

export interface RateLimitRule {
  /** Names the limit in keys and metrics, e.g. `send-burst`. */
  readonly name: string;
  /** Requests allowed in a burst, and per window on average. */
  readonly limit: number;
  readonly windowMs: number;
}

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Seconds until the next request would be allowed (0 when allowed). */
  readonly retryAfterSeconds: number;
  /** Requests still allowed right now (the smallest over the rules). */
  readonly remaining: number;
  /** Where the decision was made: Redis (shared by every replica) or this process. */
  readonly source: 'redis' | 'local';
}

/** Whole milliseconds keep Lua's arithmetic exact; rounding up only tightens the limit. */
export function emissionIntervalMs(rule: RateLimitRule): number {
  return Math.ceil(rule.windowMs / rule.limit);
}

export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

/** The same GCRA in process memory: per instance, so N replicas allow N times the limit. */
export class LocalRateLimiter {
  /** Theoretical arrival time per `rule:key`; Map order doubles as least-recently-used order. */
  private readonly tats = new Map<string, number>();

  constructor(private readonly maxKeys = 100_000) {}

  /** Counts one request against every rule, or none when any of them refuses. */
  consume(rules: readonly RateLimitRule[], key: string, now = Date.now()): RateLimitDecision {
    let waitMs = 0;
    let remaining = Number.POSITIVE_INFINITY;
    const next: [string, number][] = [];
    for (const rule of rules) {
      const interval = emissionIntervalMs(rule);
      const tolerance = interval * rule.limit;
      const id = `${rule.name}:${key}`;
      const newTat = Math.max(this.tats.get(id) ?? now, now) + interval;
      waitMs = Math.max(waitMs, newTat - tolerance - now);
      remaining = Math.min(remaining, Math.floor((tolerance - (newTat - now)) / interval));
      next.push([id, newTat]);
    }
    if (waitMs > 0) {
      return { allowed: false, retryAfterSeconds: retryAfterSeconds(waitMs), remaining: 0, source: 'local' };
    }
    for (const [id, tat] of next) {
      this.tats.delete(id);
      this.tats.set(id, tat);
    }
    if (this.tats.size > this.maxKeys) this.sweep(now);
    return { allowed: true, retryAfterSeconds: 0, remaining, source: 'local' };
  }

  /** Gives back one request's worth under every rule (a request that failed on the service's side). */
  refund(rules: readonly RateLimitRule[], key: string, now = Date.now()): void {
    for (const rule of rules) {
      const id = `${rule.name}:${key}`;
      const tat = this.tats.get(id);
      if (tat === undefined) continue;
      const back = tat - emissionIntervalMs(rule);
      if (back <= now) this.tats.delete(id);
      else this.tats.set(id, back);
    }
  }

  reset(rules: readonly RateLimitRule[], key: string): void {
    for (const rule of rules) this.tats.delete(`${rule.name}:${key}`);
  }

  /** Keys whose bucket is full again are the same as no key: drop them, oldest first. */
  private sweep(now: number): void {
    for (const [id, tat] of this.tats) {
      if (tat <= now || this.tats.size > this.maxKeys) this.tats.delete(id);
      else break;
    }
  }
}
