// Every MongoDB call runs under a deadline and through the `mongodb` breaker, so a slow or dead
// MongoDB makes sends fail fast with 503 MSG_STORE_UNAVAILABLE instead of piling up.
import {
  AppError,
  createBreaker,
  storeCallTimer,
  withTimeout,
  type Breaker,
  type Metrics,
} from '@chatcluster/kit';
import { msgErrors } from '../errors.js';

/** Duplicate-key errors are answers (a race lost), not a sick dependency. */
export function isDuplicateKey(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; writeErrors?: { code?: unknown }[] };
  // A bulk write that failed on the network has an empty writeErrors: that is no answer at all (every
  // item of an empty list "is" a duplicate, and an insert that was never stored was taken as done).
  return (
    e.code === 11000 ||
    (Array.isArray(e.writeErrors) && e.writeErrors.length > 0 && e.writeErrors.every((w) => w.code === 11000))
  );
}

export interface StoreGuard {
  run<T>(operation: string, fn: () => Promise<T>): Promise<T>;
  readonly breaker: Breaker<[() => Promise<unknown>], unknown>;
}

export interface StoreGuardOptions {
  /** `mongodb` for requests, `mongodb-background` for the relay and jobs. */
  name: string;
  timeoutMs: number;
  /** How long the breaker stays open before one trial call. */
  resetMs: number;
  /** A call this slow counts against MongoDB: half the calls of 10 s that slow open the breaker. */
  slowCallMs?: number;
  /**
   * The half-open trial (e.g. a `ping`): fired the moment the breaker half-opens, so it is the one
   * call let through and no user request waits on a store that may still be slow.
   */
  trial?: () => Promise<unknown>;
  metrics?: Metrics;
}

export function createStoreGuard({
  name,
  timeoutMs,
  resetMs,
  slowCallMs,
  trial,
  metrics,
}: StoreGuardOptions): StoreGuard {
  const breaker = createBreaker(
    name,
    (fn: () => Promise<unknown>) => fn(),
    {
      consecutiveFailures: 5,
      errorThresholdPercentage: 50,
      volumeThreshold: 10,
      resetTimeout: resetMs,
      // MongoDB answering in seconds is as good as down for a chat: shed instead of queueing.
      // Four calls suffice: at seconds a call, ten would keep sends waiting for half a minute.
      ...(slowCallMs === undefined
        ? {}
        : { slowCallMs, slowCallRatePercentage: 50, slowCallMinimumCalls: 4 }),
      isFailure: (err) => !isDuplicateKey(err) && !(err instanceof AppError && err.status < 500),
    },
    metrics,
  );
  // Timed to the call's end, past a deadline that gave up on it: how slow MongoDB really was.
  const timed = storeCallTimer(metrics);
  if (trial) {
    breaker.circuit.on('halfOpen', () => {
      void breaker.fire(() => withTimeout(timeoutMs, trial, { operation: 'trial' })).catch(() => undefined);
    });
  }
  return {
    breaker,
    async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(() =>
          withTimeout(timeoutMs, () => timed(operation, fn), { operation }),
        )) as T;
      } catch (err) {
        if (isDuplicateKey(err) || (err instanceof AppError && err.status < 500)) throw err;
        const retryAfterSeconds =
          err instanceof AppError && err.retryAfterSeconds ? err.retryAfterSeconds : 1;
        throw msgErrors.MSG_STORE_UNAVAILABLE(`message store unavailable (${operation})`, {
          retryAfterSeconds,
          cause: err,
        });
      }
    },
  };
}
