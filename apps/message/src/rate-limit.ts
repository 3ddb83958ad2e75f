// A user's limit on the message service (docs/protocol.md, "Limits"): rules checked together in
// Redis, shared by every replica, per replica while Redis cannot answer (the kit's limiter). A call
// the service itself failed (5xx: its store down, shutting down) is given back: the limit is on
// users, and the SDK repeats such a send every second, which would otherwise leave a user throttled
// for a minute after an outage of ours.
import { toAppError, type RateLimitRule, type RedisRateLimiter } from '@chatcluster/kit';

export class RateLimiter {
  constructor(
    private readonly limiter: RedisRateLimiter,
    private readonly rules: readonly RateLimitRule[],
  ) {}

  /** 0 when allowed (and counted); otherwise the seconds to wait, nothing counted. */
  async take(key: string): Promise<number> {
    const decision = await this.limiter.consume(this.rules, key);
    return decision.allowed ? 0 : decision.retryAfterSeconds;
  }

  /** Gives back the token of a call that failed on the service's side (a 5xx), not the caller's. */
  refundIfServerFault(key: string, err: unknown): void {
    if (toAppError(err).status < 500) return;
    void this.limiter.refund(this.rules, key);
  }
}
