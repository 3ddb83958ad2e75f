// Caps concurrent calls to one dependency so a slow dependency ties up a bounded share of the
// process: a few wait in FIFO order, the rest are refused at once with BULKHEAD_FULL (503).
import { AppError } from '../errors.js';
import type { Metrics } from '../metrics.js';

export interface BulkheadOptions {
  name: string;
  maxConcurrent: number;
  maxQueue: number;
  metrics?: Metrics;
  /** Longest a call may wait for a slot before it is refused; unlimited by default. */
  queueTimeoutMs?: number;
}

interface Waiter {
  start: () => void;
  timer?: NodeJS.Timeout;
}

export class Bulkhead {
  readonly name: string;
  readonly #maxConcurrent: number;
  readonly #maxQueue: number;
  readonly #queueTimeoutMs: number | undefined;
  readonly #queue: Waiter[] = [];
  #inFlight = 0;
  readonly #observe: () => void;
  readonly #countRejection: () => void;

  constructor(options: BulkheadOptions) {
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
      throw new TypeError(`bulkhead ${options.name}: maxConcurrent must be an integer >= 1`);
    }
    if (!Number.isInteger(options.maxQueue) || options.maxQueue < 0) {
      throw new TypeError(`bulkhead ${options.name}: maxQueue must be an integer >= 0`);
    }
    this.name = options.name;
    this.#maxConcurrent = options.maxConcurrent;
    this.#maxQueue = options.maxQueue;
    this.#queueTimeoutMs = options.queueTimeoutMs;
    const labels = { bulkhead: options.name };
    const metrics = options.metrics;
    const inFlight = metrics?.gauge('bulkhead_in_flight', 'Calls running inside the bulkhead.', ['bulkhead']);
    const queued = metrics?.gauge('bulkhead_queued', 'Calls waiting for a bulkhead slot.', ['bulkhead']);
    const rejected = metrics?.counter('bulkhead_rejected_total', 'Calls the bulkhead refused.', ['bulkhead']);
    this.#observe = () => {
      inFlight?.set(labels, this.#inFlight);
      queued?.set(labels, this.#queue.length);
    };
    this.#countRejection = () => rejected?.inc(labels);
    this.#observe();
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#queue.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  #acquire(): Promise<void> {
    if (this.#inFlight < this.#maxConcurrent) {
      this.#inFlight++;
      this.#observe();
      return Promise.resolve();
    }
    if (this.#queue.length >= this.#maxQueue) {
      return Promise.reject(
        this.#refuse(
          `bulkhead ${this.name} is full: ${this.#inFlight} in flight, ${this.#queue.length} queued`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { start: resolve };
      if (this.#queueTimeoutMs !== undefined) {
        const timeoutMs = this.#queueTimeoutMs;
        waiter.timer = setTimeout(() => {
          this.#queue.splice(this.#queue.indexOf(waiter), 1);
          this.#observe();
          reject(this.#refuse(`bulkhead ${this.name}: no slot within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.#queue.push(waiter);
      this.#observe();
    });
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) {
      // The slot passes straight to the next waiter; inFlight stays the same.
      clearTimeout(next.timer);
      next.start();
    } else {
      this.#inFlight--;
    }
    this.#observe();
  }

  #refuse(message: string): AppError {
    this.#countRejection();
    return new AppError('BULKHEAD_FULL', message, { retryAfterSeconds: 1 });
  }
}
