// One kit breaker per remote dependency of the client, able to run any call: the verifier's JWKS
// fetches and the membership client's lookups each get their own, so one failing does not open the other.
import { createBreaker, type Breaker, type BreakerOptions, type Metrics } from '@chatcluster/kit';

export interface GuardedCalls {
  /** Runs `fn` through the breaker; CIRCUIT_OPEN (with Retry-After) while it is open. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  readonly breaker: Breaker<[() => Promise<unknown>], unknown>;
}

export function guardedCalls(name: string, options: BreakerOptions, metrics?: Metrics): GuardedCalls {
  const breaker = createBreaker(name, (fn: () => Promise<unknown>) => fn(), options, metrics);
  return {
    breaker,
    run: <T>(fn: () => Promise<T>) => breaker.fire(fn) as Promise<T>,
  };
}
