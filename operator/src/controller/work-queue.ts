// A work queue keyed by object (namespace/name), like client-go's: a key waits at most once however
// often it is added, is never processed by two workers at once (added again while in flight, it runs
// once more afterwards), and a failing key is retried with its own exponential backoff, so one broken
// ChatCluster neither blocks nor slows the others.

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseDelayMs: 250, maxDelayMs: 5 * 60_000 };

/** Delay before retry number `failures` (1-based): base * 2^(failures-1), capped. */
export function backoffDelay(failures: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  return Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, failures - 1));
}

/** Processes one key; a rejection retries the key with backoff, a resolution resets its backoff.
 * Resolving with a number of milliseconds requeues the key after that delay (a periodic check). */
export type Handler = (key: string) => Promise<void | number>;
export type ErrorListener = (key: string, err: unknown, retryInMs: number) => void;

export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  /** Added while processing: run again once the current run ends. */
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  readonly #waiters: (() => void)[] = [];
  #shuttingDown = false;

  constructor(private readonly backoff: BackoffOptions = DEFAULT_BACKOFF) {}

  add(key: string): void {
    if (this.#shuttingDown) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    this.#waiters.shift()?.();
  }

  /** Adds the key after a delay; of two pending delayed adds of one key, the sooner wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const due = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending) {
      if (pending.due <= due) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, { timer, due });
  }

  /** Retries a failed key after its next backoff delay; returns that delay. */
  addRateLimited(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const delay = backoffDelay(failures, this.backoff);
    this.addAfter(key, delay);
    return delay;
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Keys waiting to be processed (not counting delayed retries). */
  get depth(): number {
    return this.#queue.length;
  }

  /** Keys waiting, in flight, or scheduled for a retry. */
  get pending(): number {
    return this.#queue.length + this.#processing.size + this.#timers.size;
  }

  /** Runs `concurrency` workers until shutDown(); resolves when they have all stopped. */
  async run(handler: Handler, concurrency: number, onError?: ErrorListener): Promise<void> {
    await Promise.all(Array.from({ length: concurrency }, () => this.#worker(handler, onError)));
  }

  /** Stops taking keys; in-flight ones finish, run() then resolves. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const wake of this.#waiters.splice(0)) wake();
  }

  async #worker(handler: Handler, onError?: ErrorListener): Promise<void> {
    for (;;) {
      const key = await this.#next();
      if (key === undefined) return;
      let requeueAfterMs: number | void = undefined;
      let failed = false;
      try {
        requeueAfterMs = await handler(key);
        this.forget(key);
      } catch (err) {
        failed = true;
        const delay = this.addRateLimited(key);
        onError?.(key, err, delay);
      } finally {
        this.#processing.delete(key);
        if (this.#dirty.delete(key)) this.add(key);
      }
      if (!failed && typeof requeueAfterMs === 'number') this.addAfter(key, requeueAfterMs);
    }
  }

  async #next(): Promise<string | undefined> {
    while (!this.#shuttingDown) {
      const key = this.#queue.shift();
      if (key !== undefined) {
        this.#queued.delete(key);
        this.#processing.add(key);
        return key;
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return undefined;
  }
}
