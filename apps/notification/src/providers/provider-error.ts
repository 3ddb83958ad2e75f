// How a provider call failed, in the terms the resilience layer needs: retry it, count it against
// the provider's breaker, wait in the stream, or dead-letter it.
import type { ProviderName } from '../events.js';

export type ProviderFailure =
  /** 5xx, 408, 429, connection errors: retried with backoff, counted by the breaker. */
  | 'retryable'
  /** 401/403: our credentials, not this notification; counted by the breaker, never dead-lettered. */
  | 'credentials'
  /** Other 4xx: this notification can never succeed (bad token, bad address); dead-lettered. */
  | 'rejected';

export class ProviderError extends Error {
  readonly provider: ProviderName;
  readonly failure: ProviderFailure;
  /** HTTP status, or undefined for errors below HTTP. */
  readonly status: number | undefined;
  /** Provider's own error code (FCM `UNREGISTERED`, SendGrid field), for the dead-letter reason. */
  readonly code: string | undefined;
  /** From Retry-After (or SendGrid's X-RateLimit-Reset); kit retry() waits this long instead of its backoff. */
  readonly retryAfterMs: number | undefined;

  constructor(
    provider: ProviderName,
    failure: ProviderFailure,
    message: string,
    options: { status?: number; code?: string; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
    this.provider = provider;
    this.failure = failure;
    this.status = options.status;
    this.code = options.code;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The failure class of an HTTP status that is not a success. */
export function failureOfStatus(status: number): ProviderFailure {
  if (status === 408 || status === 429 || status >= 500) return 'retryable';
  if (status === 401 || status === 403) return 'credentials';
  return 'rejected';
}

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable. A date in the past means "now".
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
