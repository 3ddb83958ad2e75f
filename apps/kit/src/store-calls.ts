// How long a service's calls to its own data store take, by operation: one histogram every service
// exports the same way (message's MongoDB calls, auth's PostgreSQL calls), so a slow dependency shows
// which calls it slows without improvising one during an incident.
import type { Metrics } from './metrics.js';

/** Store calls take milliseconds when healthy and seconds when not: fine buckets low, a few high. */
export const storeCallBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type StoreCallTimer = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;

/**
 * Records `<prefix>_store_call_duration_seconds{operation}` for every call, failed ones too, from
 * the caller's side (a retried read counts its retries). `operation` is a fixed name such as
 * `insertMessage`, never data. Without metrics the calls just run.
 */
export function storeCallTimer(metrics: Metrics | undefined): StoreCallTimer {
  const histogram = metrics?.histogram(
    'store_call_duration_seconds',
    "Time a call to the service's data store took, failures included, by operation.",
    ['operation'],
    storeCallBuckets,
  );
  return async (operation, fn) => {
    if (!histogram) return fn();
    const done = histogram.startTimer({ operation });
    try {
      return await fn();
    } finally {
      done();
    }
  };
}
