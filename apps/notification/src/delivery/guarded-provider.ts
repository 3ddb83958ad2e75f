// One provider behind its own resilience: a bulkhead bounds its in-flight calls, a breaker stops
// calling it while it fails, every call has a deadline, the whole try has a deadline, and retryable
// failures are retried on the backoff schedule (kit retry() with delaysMs). The answer says how the
// try ended: sent, deferred (wait in the stream), rejected (dead-letter) or exhausted (the processor
// counts tries).
import {
  Bulkhead,
  createBreaker,
  isAppError,
  retry,
  withTimeout,
  type Breaker,
  type BreakerOptions,
  type Metrics,
} from '@chatcluster/kit';
import type { ProviderName } from '../events.js';
import type { NotificationMetrics } from '../metrics.js';
import { ProviderError } from '../providers/provider-error.js';
import type { Notification, ProviderClient } from '../providers/provider.js';
import { linkedSignal } from './linked-signal.js';

/** One provider call, as kept in a dead letter's attempt history. */
export interface AttemptRecord {
  readonly attempt: number;
  readonly at: string;
  readonly durationMs: number;
  readonly outcome: 'sent' | 'failed';
  readonly status?: number;
  readonly code?: string;
  readonly error?: string;
}

/** Why a delivery waits in the stream for a later try. */
export type DeferReason =
  | 'circuit_open'
  | 'bulkhead_full'
  | 'credentials'
  | 'rate_limited'
  | 'shutdown'
  /** The dedupe record could not be updated before a call: no call without it. */
  | 'dedupe_unavailable';

/** A call hook failed (Redis): the call was not made. */
class HookFailed extends Error {}
/** Why a try used up its retries (the processor dead-letters after enough tries). */
export type ExhaustedReason = 'retries_exhausted' | 'deadline_exceeded' | 'internal_error';

export type SendOutcome =
  | { readonly kind: 'sent'; readonly providerId: string; readonly attempts: AttemptRecord[] }
  | { readonly kind: 'deferred'; readonly reason: DeferReason; readonly attempts: AttemptRecord[] }
  /** The provider refused this notification (4xx): it can never succeed. */
  | {
      readonly kind: 'rejected';
      readonly error: string;
      readonly code?: string;
      readonly attempts: AttemptRecord[];
    }
  /** Retryable failures until the retries or the total deadline ran out. */
  | {
      readonly kind: 'exhausted';
      readonly reason: ExhaustedReason;
      readonly error: string;
      readonly attempts: AttemptRecord[];
    };

/** Told around each provider call, so the dedupe record knows whether a call is open. */
export interface CallHooks {
  /** Right before a call starts. */
  beforeCall(): Promise<void>;
  /** The provider answered a failure: nothing went out (only while no call's outcome is unknown). */
  afterRefusal(): Promise<void>;
}

/** Signals of the service's shutdown: `stop` lets running calls finish, `cut` aborts them. */
export interface StopSignals {
  readonly stop: AbortSignal;
  readonly cut: AbortSignal;
}

export interface GuardedProviderOptions {
  readonly client: ProviderClient;
  readonly kitMetrics: Metrics;
  readonly metrics: NotificationMetrics;
  readonly callTimeoutMs: number;
  readonly totalTimeoutMs: number;
  readonly retries: number;
  /** Wait before retry n: delaysMs[n-1] (the last repeats) ± jitterRatio of it (kit retry()). */
  readonly backoff: { readonly delaysMs: readonly number[]; readonly jitterRatio: number };
  /** A Retry-After beyond this defers the delivery instead of sleeping. */
  readonly retryAfterMaxMs: number;
  readonly breaker: Omit<BreakerOptions, 'isFailure' | 'timeout'>;
  readonly bulkhead: { maxConcurrent: number; maxQueue: number; queueTimeoutMs: number };
}

/** Errors that justify another call: the provider's retryable answers and our per-call deadline. */
function isRetryable(err: unknown): boolean {
  if (err instanceof ProviderError) return err.failure === 'retryable';
  return isAppError(err, 'TIMEOUT');
}

/** What the breaker counts against the provider: everything except answers about this notification. */
function isProviderFault(err: unknown): boolean {
  return !(err instanceof ProviderError && err.failure === 'rejected');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class GuardedProvider {
  readonly name: ProviderName;
  readonly breaker: Breaker<[Notification, AbortSignal, number], string>;
  readonly bulkhead: Bulkhead;
  /** Until when the provider asked us (429 with a long Retry-After) not to call. */
  #pausedUntil = 0;

  constructor(private readonly options: GuardedProviderOptions) {
    const { client, callTimeoutMs } = options;
    this.name = client.name;
    this.breaker = createBreaker(
      client.name,
      (n: Notification, parent: AbortSignal, attempt: number) => {
        // Counted here, where the breaker let the call through: a repeat that really goes out.
        if (attempt > 1) options.metrics.retried.inc({ provider: client.name });
        return withTimeout(callTimeoutMs, (signal) => client.send(n, signal), {
          operation: `${client.name} call`,
          parentSignal: parent,
        });
      },
      { ...options.breaker, isFailure: isProviderFault },
      options.kitMetrics,
    );
    this.bulkhead = new Bulkhead({
      name: client.name,
      metrics: options.kitMetrics,
      ...options.bulkhead,
    });
  }

  /** closed, halfOpen or open. */
  get state(): Breaker<[Notification, AbortSignal, number], string>['state'] {
    return this.breaker.state;
  }

  /** False while the breaker is open or the provider asked for a pause: calls would not go out. */
  get accepting(): boolean {
    return this.breaker.state !== 'open' && Date.now() >= this.#pausedUntil;
  }

  close(): void {
    this.breaker.shutdown();
  }

  async send(n: Notification, signals: StopSignals, hooks?: CallHooks): Promise<SendOutcome> {
    const { options } = this;
    const attempts: AttemptRecord[] = [];
    if (Date.now() < this.#pausedUntil) return { kind: 'deferred', reason: 'rate_limited', attempts };
    let totalExpired = false;
    // Once a call timed out or lost its connection, it may have gone out: the delivery stays "calling".
    let outcomeUnknown = false;
    try {
      const providerId = await withTimeout(
        options.totalTimeoutMs,
        (totalSignal) => {
          totalSignal.addEventListener('abort', () => (totalExpired = !signals.cut.aborted), { once: true });
          // A call in flight is cut by the total deadline or a hard stop; a graceful stop only
          // prevents new calls and ends backoff sleeps.
          const callParent = linkedSignal(totalSignal, signals.cut);
          const retrySignal = linkedSignal(totalSignal, signals.stop);
          return retry(
            async (attempt) => {
              const at = new Date().toISOString();
              const started = performance.now();
              let called = false;
              try {
                const id = await this.bulkhead.run(async () => {
                  // Waited for a slot while the service began to stop: leave it to another instance.
                  signals.stop.throwIfAborted();
                  await hooks?.beforeCall().catch((err: unknown) => {
                    throw new HookFailed('could not mark the delivery as calling', { cause: err });
                  });
                  called = true;
                  return this.breaker.fire(n, callParent.signal, attempt);
                });
                attempts.push({ attempt, at, durationMs: elapsed(started), outcome: 'sent' });
                return id;
              } catch (err) {
                const answered = err instanceof ProviderError && err.status !== undefined;
                if (called && !answered && !isAppError(err, 'CIRCUIT_OPEN')) outcomeUnknown = true;
                // Best effort: left at `calling`, a crash would only make the outcome look unknown.
                if (answered && !outcomeUnknown) await hooks?.afterRefusal().catch(() => undefined);
                attempts.push({
                  attempt,
                  at,
                  durationMs: elapsed(started),
                  outcome: 'failed',
                  ...(err instanceof ProviderError && err.status !== undefined ? { status: err.status } : {}),
                  ...(err instanceof ProviderError && err.code !== undefined ? { code: err.code } : {}),
                  error: errorText(err),
                });
                throw err;
              }
            },
            {
              idempotent: true,
              attempts: options.retries + 1,
              delaysMs: options.backoff.delaysMs,
              jitterRatio: options.backoff.jitterRatio,
              // Only bounds a Retry-After slept in-process (longer ones defer the delivery, #classify).
              maxDelayMs: options.retryAfterMaxMs,
              operation: `${this.name}.send`,
              retryable: isRetryable,
              signal: retrySignal.signal,
              metrics: options.kitMetrics,
            },
          ).finally(() => {
            callParent.dispose();
            retrySignal.dispose();
          });
        },
        { operation: `${this.name} delivery`, parentSignal: signals.cut },
      );
      return { kind: 'sent', providerId, attempts };
    } catch (err) {
      return this.#classify(err, attempts, totalExpired, signals);
    }
  }

  #classify(
    err: unknown,
    attempts: AttemptRecord[],
    totalExpired: boolean,
    signals: StopSignals,
  ): SendOutcome {
    if (err instanceof ProviderError && err.failure === 'rejected') {
      return { kind: 'rejected', error: err.message, ...(err.code ? { code: err.code } : {}), attempts };
    }
    if (isAppError(err, 'CIRCUIT_OPEN')) return { kind: 'deferred', reason: 'circuit_open', attempts };
    if (isAppError(err, 'BULKHEAD_FULL')) return { kind: 'deferred', reason: 'bulkhead_full', attempts };
    if (signals.stop.aborted || signals.cut.aborted)
      return { kind: 'deferred', reason: 'shutdown', attempts };
    if (err instanceof HookFailed) return { kind: 'deferred', reason: 'dedupe_unavailable', attempts };
    if (err instanceof ProviderError && err.failure === 'credentials') {
      return { kind: 'deferred', reason: 'credentials', attempts };
    }
    const asked = retryAfterOf(err);
    if (asked !== undefined && asked > this.options.retryAfterMaxMs) {
      // Too long to sleep in-process: every delivery to this provider waits in the stream until then.
      this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + asked);
      return { kind: 'deferred', reason: 'rate_limited', attempts };
    }
    if (totalExpired) {
      return { kind: 'exhausted', reason: 'deadline_exceeded', error: errorText(err), attempts };
    }
    if (isRetryable(err))
      return { kind: 'exhausted', reason: 'retries_exhausted', error: errorText(err), attempts };
    return { kind: 'exhausted', reason: 'internal_error', error: errorText(err), attempts };
  }
}

function retryAfterOf(err: unknown): number | undefined {
  return err instanceof ProviderError ? err.retryAfterMs : undefined;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
