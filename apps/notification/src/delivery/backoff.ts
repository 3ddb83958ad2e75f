// The retry schedule of provider calls: around 1 s, 5 s and 15 s, each jittered so that deliveries
// failing together do not retry together. The kit's retry() has a fixed doubling backoff; this
// supplies the schedule through its `sleep` hook (see docs/notification-service.md, "Kit").
import { setTimeout as sleepFor } from 'node:timers/promises';

export interface BackoffSchedule {
  /** Wait before retry n is delaysMs[n-1] (the last one repeats). */
  readonly delaysMs: readonly number[];
  /** Each wait is spread uniformly over ±jitter of itself (0-1). */
  readonly jitter: number;
  /** [0, 1) source; Math.random by default. */
  readonly random?: () => number;
}

/** The wait before retry `retryNumber` (1 = the first retry). */
export function backoffDelay(retryNumber: number, schedule: BackoffSchedule): number {
  const { delaysMs, jitter } = schedule;
  if (delaysMs.length === 0) return 0;
  const base = delaysMs[Math.min(Math.max(retryNumber, 1), delaysMs.length) - 1]!;
  const random = schedule.random ?? Math.random;
  return Math.round(base * (1 - jitter + 2 * jitter * random()));
}

/** Sleeps `ms`, rejecting with the signal's reason when it aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleepFor(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  }
}
