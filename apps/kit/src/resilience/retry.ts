// Retries with exponential backoff and full jitter (or an explicit schedule of delays), for idempotent
// operations only: retrying a non-idempotent call (a POST without an idempotency key) can repeat its
// side effect.
import { setTimeout as sleepFor } from 'node:timers/promises';
import { AppError } from '../errors.js';
import type { Metrics } from '../metrics.js';

interface RetryCommonOptions {
  /** Must be `true`: the caller vouches that repeating the operation is safe. */
  idempotent: true;
  /** Total tries, the first included (>= 1). */
  attempts: number;
  /**
   * The longest wait: caps the exponential backoff, and a wait the error asks for (Retry-After)
   * beyond it gives up instead. An explicit `delaysMs` schedule is not capped by it.
   */
  maxDelayMs: number;
  /** Names the operation in `<prefix>_retry_attempts_total{operation}`. */
  operation: string;
  /** Which errors are worth another try; isTransient by default. */
  retryable?: (err: unknown) => boolean;
  /** Stops retrying (and the backoff sleep) when aborted. */
  signal?: AbortSignal;
  metrics?: Metrics;
  /** [0, 1) source for the jitter; Math.random by default. */
  random?: () => number;
  /** Backoff sleep; must reject when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Exponential backoff with full jitter: `random() * min(maxDelayMs, baseDelayMs * 2^(n-1))`. */
interface ExponentialBackoffOptions {
  baseDelayMs: number;
  delaysMs?: undefined;
  jitterRatio?: undefined;
}

/**
 * An explicit schedule: the wait after failed attempt n is `delaysMs[n-1]` (the last one repeats),
 * spread uniformly over ±`jitterRatio` of itself.
 */
interface ScheduledBackoffOptions {
  /** Waits in ms before the 1st, 2nd, … retry; non-empty, each >= 0. */
  delaysMs: readonly number[];
  /** 0-1, default 0.2: a 1000 ms delay becomes 800-1200 ms. 0 waits exactly the schedule. */
  jitterRatio?: number;
  baseDelayMs?: undefined;
}

export type RetryOptions = RetryCommonOptions & (ExponentialBackoffOptions | ScheduledBackoffOptions);

/** The default `jitterRatio` of a `delaysMs` schedule. */
export const DEFAULT_RETRY_JITTER_RATIO = 0.2;

/** How an attempt ended, the `outcome` label. */
export type RetryOutcome =
  'success' | 'retry' | 'exhausted' | 'not_retryable' | 'retry_after_too_long' | 'aborted';

/** Worth retrying: 429, 5xx, and errors from below HTTP (connection refused, reset, DNS). */
export function isTransient(err: unknown): boolean {
  if (err instanceof AppError) return err.status === 429 || err.status >= 500;
  return true;
}

/** The wait the failed call asked for: `retryAfterMs` on the error, or an AppError's retryAfterSeconds. */
function requestedDelayMs(err: unknown): number | undefined {
  if (
    typeof err === 'object' &&
    err !== null &&
    'retryAfterMs' in err &&
    typeof err.retryAfterMs === 'number'
  ) {
    return err.retryAfterMs;
  }
  return err instanceof AppError && err.retryAfterSeconds !== undefined
    ? err.retryAfterSeconds * 1000
    : undefined;
}

async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleepFor(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  }
}

/** The wait after failed attempt n (>= 1), given a draw of random(); checks the options. */
function backoffOf(options: RetryOptions): (attempt: number, draw: number) => number {
  const fail = (problem: string) => new TypeError(`retry(${options.operation}): ${problem}`);
  if (options.delaysMs === undefined) {
    const { baseDelayMs, maxDelayMs } = options;
    if (typeof baseDelayMs !== 'number') throw fail('baseDelayMs or delaysMs is required');
    return (attempt, draw) => draw * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  }
  const { delaysMs } = options;
  const ratio = options.jitterRatio ?? DEFAULT_RETRY_JITTER_RATIO;
  if (options.baseDelayMs !== undefined) throw fail('baseDelayMs and delaysMs exclude each other');
  if (delaysMs.length === 0 || !delaysMs.every((ms) => Number.isFinite(ms) && ms >= 0)) {
    throw fail('delaysMs must be a non-empty list of delays >= 0');
  }
  if (!(ratio >= 0 && ratio <= 1)) throw fail('jitterRatio must be 0-1');
  const schedule = [...delaysMs];
  return (attempt, draw) => {
    const delay = schedule[Math.min(attempt, schedule.length) - 1]!;
    return delay + delay * ratio * (2 * draw - 1);
  };
}

/**
 * Calls `fn` until it succeeds, the error is not retryable, attempts run out or `signal` aborts.
 * The wait after failed attempt n is `random() * min(maxDelayMs, baseDelayMs * 2^(n-1))`, or with
 * `delaysMs` the n-th delay (the last one repeats) ± `jitterRatio` of it, unless the error asks for a
 * specific wait; a requested wait longer than maxDelayMs gives up instead.
 */
export async function retry<T>(
  fn: (attempt: number, signal: AbortSignal | undefined) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  if ((options as { idempotent: unknown }).idempotent !== true) {
    throw new TypeError(
      `retry(${options.operation}): refusing to retry an operation not marked idempotent: true`,
    );
  }
  if (!Number.isInteger(options.attempts) || options.attempts < 1) {
    throw new TypeError(`retry(${options.operation}): attempts must be an integer >= 1`);
  }
  const backoff = backoffOf(options);
  const { signal, attempts, maxDelayMs } = options;
  const retryable = options.retryable ?? isTransient;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  const counter = options.metrics?.counter(
    'retry_attempts_total',
    'Attempts made by retry(), by how each ended.',
    ['operation', 'outcome'],
  );
  const count = (outcome: RetryOutcome) => counter?.inc({ operation: options.operation, outcome });

  const outcomeOf = (err: unknown, attempt: number): RetryOutcome => {
    if (signal?.aborted) return 'aborted';
    if (!retryable(err)) return 'not_retryable';
    if (attempt >= attempts) return 'exhausted';
    const requested = requestedDelayMs(err);
    return requested !== undefined && requested > maxDelayMs ? 'retry_after_too_long' : 'retry';
  };

  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      const result = await fn(attempt, signal);
      count('success');
      return result;
    } catch (err) {
      const outcome = outcomeOf(err, attempt);
      count(outcome);
      if (outcome !== 'retry') throw err;
      await sleep(requestedDelayMs(err) ?? backoff(attempt, random()), signal);
    }
  }
}
