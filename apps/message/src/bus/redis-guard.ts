// Redis calls under a deadline and the `redis` breaker: Redis being down must cost a fast failure,
// never a hung send (messages are stored and acknowledged without it).
import { createBreaker, withTimeout, type Breaker, type Metrics } from '@chatcluster/kit';

export interface RedisGuard {
  run<T>(operation: string, fn: () => Promise<T>): Promise<T>;
  readonly breaker: Breaker<[() => Promise<unknown>], unknown>;
}

export function createRedisGuard(timeoutMs: number, metrics?: Metrics): RedisGuard {
  const breaker = createBreaker(
    'redis',
    (fn: () => Promise<unknown>) => fn(),
    {
      consecutiveFailures: 5,
      errorThresholdPercentage: 50,
      volumeThreshold: 20,
      resetTimeout: 2_000,
    },
    metrics,
  );
  return {
    breaker,
    run: <T>(operation: string, fn: () => Promise<T>) =>
      breaker.fire(() => withTimeout(timeoutMs, () => fn(), { operation })) as Promise<T>,
  };
}
