// Circuit breaker (opossum) that stops calling a failing dependency for a while, so callers fail
// fast with CIRCUIT_OPEN instead of piling up behind timeouts. State and events are exported as metrics.
import type { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { AppError } from '../errors.js';
import type { Metrics } from '../metrics.js';

export interface BreakerOptions {
  /** Per-call timeout in ms, or false (default) to leave deadlines to withTimeout. */
  timeout?: number | false;
  /** Opens when this share of calls in the rolling window fail (opossum default 50). */
  errorThresholdPercentage?: number;
  /** Calls needed in the window before the percentage counts (opossum default 0). */
  volumeThreshold?: number;
  /** Length of the rolling window in ms (opossum default 10000). */
  rollingCountTimeout?: number;
  /** How long the circuit stays open before one trial call is let through (opossum default 30000). */
  resetTimeout?: number;
  /** Also opens after this many failures in a row, whatever the percentage. */
  consecutiveFailures?: number;
  /** Which errors count against the dependency; others (e.g. 4xx answers) pass through untallied. */
  isFailure?: (err: unknown) => boolean;
  /**
   * A call that settles after this many ms is slow (Resilience4j's slowCallDurationThreshold): a
   * dependency that answers, but too slowly to be useful, opens the circuit too.
   */
  slowCallMs?: number;
  /** Opens when this share of the calls in the rolling window was slow (with `slowCallMs`; default 50). */
  slowCallRatePercentage?: number;
  /** Calls needed in the window before the slow share counts (default `volumeThreshold`). */
  slowCallMinimumCalls?: number;
}

export type BreakerState = 'closed' | 'halfOpen' | 'open';

const stateValue: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2 };

/** Events counted in `<prefix>_circuit_breaker_events_total{event}`. */
export const breakerEvents = [
  'success',
  'failure',
  'timeout',
  'reject',
  'open',
  'halfOpen',
  'close',
  'fallback',
] as const;

export interface Breaker<A extends unknown[], R> {
  readonly name: string;
  readonly state: BreakerState;
  /** Calls through the breaker; rejects with CIRCUIT_OPEN while open, TIMEOUT on the breaker's timeout. */
  fire: (...args: A) => Promise<R>;
  /**
   * Counts a call its caller refused on this breaker's state without firing it (a caller that checks
   * `state` to answer at once): a `reject`, as if the open circuit had refused it.
   */
  rejected: () => void;
  /** The underlying opossum breaker, e.g. for a fallback. */
  readonly circuit: CircuitBreaker<A, R>;
  /** Stops the breaker's timers; later calls reject. */
  shutdown: () => void;
}

export function createBreaker<A extends unknown[], R>(
  name: string,
  fn: (...args: A) => Promise<R>,
  options: BreakerOptions = {},
  metrics?: Metrics,
): Breaker<A, R> {
  const resetTimeout = options.resetTimeout ?? 30_000;
  const { isFailure } = options;
  const slow = options.slowCallMs === undefined ? undefined : slowCallTally(options);
  // When the circuit last changed state. A call that started before then ends stale: it says
  // nothing about the dependency now (a timeout of the outage settling after the circuit closed, or
  // while half-open, would open it again and keep a recovered dependency shut out for another round).
  let periodStartedAt = 0;
  const timed = async (...args: A): Promise<R> => {
    const started = performance.now();
    const trial = circuit.halfOpen;
    try {
      const result = await fn(...args);
      const ms = performance.now() - started;
      // A slow trial call fails the trial (Resilience4j judges half-open calls by the slow share too);
      // its caller still gets the result (see `fire`).
      if (trial && slow && ms >= slow.slowMs) throw new SlowTrial(result);
      // The tally judges closed periods; the trial is judged above, by itself.
      if (!trial && started >= periodStartedAt) slow?.record(ms);
      return result;
    } catch (err) {
      if (err instanceof SlowTrial) throw err;
      if (started < periodStartedAt) throw new StaleOutcome(err);
      if (!trial) slow?.record(performance.now() - started);
      throw err;
    }
  };
  const circuit = new CircuitBreaker<A, R>(timed, {
    name,
    timeout: options.timeout ?? false,
    resetTimeout,
    ...(options.errorThresholdPercentage === undefined
      ? {}
      : { errorThresholdPercentage: options.errorThresholdPercentage }),
    ...(options.volumeThreshold === undefined ? {} : { volumeThreshold: options.volumeThreshold }),
    ...(options.rollingCountTimeout === undefined
      ? {}
      : { rollingCountTimeout: options.rollingCountTimeout }),
    // opossum has no "neither": a filtered error counts as a success, which a stale one is closest to.
    errorFilter: (err: unknown) =>
      err instanceof StaleOutcome ||
      (!(err instanceof SlowTrial) && isFailure !== undefined && !isFailure(err)),
  });

  let openedAt = 0;
  circuit.on('open', () => (openedAt = Date.now()));
  const newPeriod = () => (periodStartedAt = performance.now());
  circuit.on('open', newPeriod);
  circuit.on('halfOpen', newPeriod);
  circuit.on('close', newPeriod);
  if (slow) {
    slow.onTooSlow(() => {
      if (!circuit.opened) circuit.open();
    });
    // Each closed period is judged on its own calls.
    circuit.on('close', () => slow.clear());
  }

  if (options.consecutiveFailures !== undefined) {
    // opossum only knows percentages over a window; a run of failures opens the circuit too.
    const limit = options.consecutiveFailures;
    let failuresInARow = 0;
    circuit.on('failure', () => {
      failuresInARow++;
      if (failuresInARow >= limit && !circuit.opened) circuit.open();
    });
    circuit.on('success', (result: unknown) => {
      if (!(result instanceof StaleOutcome)) failuresInARow = 0;
    });
    circuit.on('close', () => (failuresInARow = 0));
  }

  const state = (): BreakerState => (circuit.opened ? 'open' : circuit.halfOpen ? 'halfOpen' : 'closed');
  if (metrics) {
    const labels = { breaker: name };
    const gauge = metrics.gauge('circuit_breaker_state', 'Circuit state: 0 closed, 1 half-open, 2 open.', [
      'breaker',
    ]);
    const events = metrics.counter('circuit_breaker_events_total', 'Circuit breaker events.', [
      'breaker',
      'event',
    ]);
    gauge.set(labels, stateValue[state()]);
    // opossum's typings only accept one literal event name per call; the emitter itself takes any.
    const emitter: EventEmitter = circuit;
    for (const event of breakerEvents)
      emitter.on(event, (outcome: unknown) => {
        if (!(outcome instanceof StaleOutcome)) events.inc({ ...labels, event });
      });
    for (const event of ['open', 'halfOpen', 'close'])
      emitter.on(event, () => gauge.set(labels, stateValue[state()]));
  }

  const translate = (err: unknown): never => {
    if (err instanceof StaleOutcome) throw err.error;
    const code =
      err instanceof Error && CircuitBreaker.isOurError(err) ? (err as { code?: string }).code : undefined;
    if (code === 'EOPENBREAKER') {
      const remainingMs = resetTimeout - (Date.now() - openedAt);
      throw new AppError('CIRCUIT_OPEN', `circuit ${name} is open`, {
        retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)),
        cause: err,
      });
    }
    if (code === 'ETIMEDOUT')
      throw new AppError('TIMEOUT', `${name}: ${(err as Error).message}`, { cause: err });
    throw err;
  };

  return {
    name,
    get state() {
      return state();
    },
    fire: (...args) =>
      circuit
        .fire(...args)
        .catch((err: unknown) => (err instanceof SlowTrial ? (err.result as R) : translate(err))),
    rejected: () => {
      circuit.emit('reject', new Error(`circuit ${name} refused a call on its state`));
    },
    circuit,
    shutdown: () => circuit.shutdown(),
  };
}

/** A trial call that answered, too slowly: it reopens the circuit, and its caller gets `result`. */
class SlowTrial extends Error {
  constructor(readonly result: unknown) {
    super('the trial call was slow');
  }
}

/** The error of a call that started before the circuit's last change of state (see `timed`). */
class StaleOutcome extends Error {
  constructor(readonly error: unknown) {
    super('the outcome of a call from an earlier circuit state');
  }
}

/** Calls and slow calls over the rolling window, in one-second buckets. */
function slowCallTally(options: BreakerOptions) {
  const slowMs = options.slowCallMs!;
  const percentage = options.slowCallRatePercentage ?? 50;
  const minCalls = Math.max(1, options.slowCallMinimumCalls ?? options.volumeThreshold ?? 1);
  const buckets = Math.max(1, Math.ceil((options.rollingCountTimeout ?? 10_000) / 1000));
  let window: { second: number; calls: number; slow: number }[] = [];
  let tooSlow: () => void = () => undefined;
  return {
    slowMs,
    onTooSlow(handler: () => void) {
      tooSlow = handler;
    },
    clear() {
      window = [];
    },
    record(ms: number) {
      const second = Math.floor(Date.now() / 1000);
      window = window.filter((b) => b.second > second - buckets);
      let bucket = window[window.length - 1];
      if (bucket?.second !== second) window.push((bucket = { second, calls: 0, slow: 0 }));
      bucket.calls++;
      if (ms >= slowMs) bucket.slow++;
      const calls = window.reduce((n, b) => n + b.calls, 0);
      const slowCalls = window.reduce((n, b) => n + b.slow, 0);
      if (calls >= minCalls && slowCalls * 100 >= percentage * calls) tooSlow();
    },
  };
}
