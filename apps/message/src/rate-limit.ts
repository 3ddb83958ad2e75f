// Per-user token buckets, kept in this instance's memory (docs/protocol.md, "Limits"). A send the
// service itself failed (5xx: its store down, shutting down) is given back: the limit is on users,
// and the SDK repeats such a send every second, which would otherwise leave a user throttled for a
// minute after an outage of ours.
import { toAppError } from '@chatcluster/kit';

export class TokenBucket {
  #tokens: number;
  #updated: number;

  constructor(
    private readonly capacity: number,
    /** Tokens per millisecond. */
    private readonly refillPerMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#tokens = capacity;
    this.#updated = now();
  }

  #refill(): void {
    const t = this.now();
    this.#tokens = Math.min(this.capacity, this.#tokens + (t - this.#updated) * this.refillPerMs);
    this.#updated = t;
  }

  /** Milliseconds until one token is available (0: now). */
  waitMs(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.refillPerMs);
  }

  take(): void {
    this.#tokens -= 1;
  }

  giveBack(): void {
    this.#refill();
    this.#tokens = Math.min(this.capacity, this.#tokens + 1);
  }

  get full(): boolean {
    this.#refill();
    return this.#tokens >= this.capacity;
  }
}

export interface LimitSpec {
  name: string;
  capacity: number;
  windowMs: number;
}

/** Several buckets that must all have a token (e.g. 100/min and 20 per 10 s), per key. */
export class RateLimiter {
  readonly #buckets = new Map<string, TokenBucket[]>();

  constructor(
    private readonly specs: readonly LimitSpec[],
    private readonly now: () => number = Date.now,
  ) {
    // Full buckets are the same as no bucket: forget them so idle users cost nothing.
    setInterval(() => {
      for (const [key, buckets] of this.#buckets) if (buckets.every((b) => b.full)) this.#buckets.delete(key);
    }, 60_000).unref();
  }

  /** 0 when allowed (and counted); otherwise the seconds to wait, nothing counted. */
  take(key: string): number {
    let buckets = this.#buckets.get(key);
    if (!buckets) {
      buckets = this.specs.map((s) => new TokenBucket(s.capacity, s.capacity / s.windowMs, this.now));
      this.#buckets.set(key, buckets);
    }
    const waitMs = Math.max(...buckets.map((b) => b.waitMs()));
    if (waitMs > 0) return Math.max(1, Math.ceil(waitMs / 1000));
    for (const b of buckets) b.take();
    return 0;
  }

  /** Gives back the token of a call that failed on the service's side (a 5xx), not the caller's. */
  refundIfServerFault(key: string, err: unknown): void {
    if (toAppError(err).status < 500) return;
    for (const bucket of this.#buckets.get(key) ?? []) bucket.giveBack();
  }
}
