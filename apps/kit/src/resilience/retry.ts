// Retries with exponential backoff and full jitter, for idempotent operations only: retrying a
// non-idempotent call (a POST without an idempotency key) can repeat its side effect.
import { setTimeout as sleepFor } from 'node:timers/promises';
import { AppError } from '../errors.js';
import type { Metrics } from '../metrics.js';

export interface RetryOptions {
  /** Must be `true`: the caller vouches that repeating the operation is safe. */
  idempotent: true;
  /** Total tries, the first included (>= 1). */
  attempts: number;
  baseDelayMs: number;
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

/**
 * Calls `fn` until it succeeds, the error is not retryable, attempts run out or `signal` aborts.
 * The wait after failed attempt n is `random() * min(maxDelayMs, baseDelayMs * 2^(n-1))`, unless the
 * error asks for a specific wait; a wait longer than maxDelayMs gives up instead.
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
  const { signal, attempts, baseDelayMs, maxDelayMs } = options;
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
      const backoff = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      await sleep(requestedDelayMs(err) ?? backoff, signal);
    }
  }
}
