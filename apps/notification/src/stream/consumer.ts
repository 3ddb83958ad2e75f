// Reads chat:notify as one consumer of the group: new entries with XREADGROUP, its own deferred
// entries again on a timer (and as soon as a breaker half-opens or closes), and entries a dead
// consumer left pending with XAUTOCLAIM. An entry is acknowledged only after the processor says so;
// stopping stops reading, lets running provider calls finish within a deadline and leaves the
// rest pending for another instance.
import { setMaxListeners } from 'node:events';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Logger } from '@chatcluster/kit';
import type { Redis } from 'ioredis';
import { fieldsToRecord } from '../events.js';
import type { StopSignals } from '../delivery/guarded-provider.js';
import type { EntryProcessor, StreamEntry } from '../delivery/processor.js';

export interface StreamConsumerOptions {
  /** Commands (acks, claims, history reads). */
  readonly redis: Redis;
  /** A connection of its own for the blocking XREADGROUP. */
  readonly blocking: Redis;
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly batch: number;
  readonly blockMs: number;
  readonly maxInFlight: number;
  readonly retryIntervalMs: number;
  readonly claimIdleMs: number;
  readonly processor: EntryProcessor;
  readonly logger: Logger;
  /** Told about entries that vanished while pending (trimmed by someone else): they cannot be sent. */
  readonly onLost?: (ids: readonly string[]) => void;
}

/** [id, [field, value, ...] | null] as Redis answers entries; null for an entry deleted while pending. */
type RawEntry = [string, string[] | null];

/** Entries read or claimed per call of a retry pass, and per pass in all. */
const PAGE = 100;
const PASS_BUDGET = 1_000;

export class StreamConsumer {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly slotWaiters: (() => void)[] = [];
  private readonly stopController = new AbortController();
  private readonly cutController = new AbortController();
  private readLoop: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryRunning: Promise<void> | undefined;
  private retryAgain = false;
  /** Where the next retry pass continues in this consumer's pending list. */
  private ownCursor = '0';

  constructor(private readonly options: StreamConsumerOptions) {
    // Every delivery in flight listens to both (and lets go when it settles): many at once is normal.
    setMaxListeners(0, this.stopController.signal, this.cutController.signal);
  }

  get signals(): StopSignals {
    return { stop: this.stopController.signal, cut: this.cutController.signal };
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Starts reading; Redis being down at this point only delays the first read. */
  start(): void {
    this.readLoop = this.#readLoop();
    this.retryTimer = setInterval(() => this.retrySoon(), this.options.retryIntervalMs);
    this.retrySoon();
  }

  /** Runs a retry pass now (or right after the one running). */
  retrySoon(): void {
    if (this.stopping) return;
    if (this.retryRunning) {
      this.retryAgain = true;
      return;
    }
    this.retryRunning = this.#retryPass()
      .catch((err: unknown) => this.options.logger.warn({ err }, 'retry pass failed'))
      .finally(() => {
        this.retryRunning = undefined;
        if (this.retryAgain) {
          this.retryAgain = false;
          this.retrySoon();
        }
      });
  }

  /**
   * Stops reading and claiming, lets in-flight entries finish for up to `drainMs` (provider calls
   * running may complete; nothing new starts), then cuts what is left. Unfinished entries stay
   * pending in the group for another consumer.
   */
  async stop(drainMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopController.abort(new Error('notification service stopping'));
    clearInterval(this.retryTimer);
    for (const wake of this.slotWaiters.splice(0)) wake();
    // Ends a blocking XREADGROUP at once.
    this.options.blocking.disconnect();
    await this.readLoop;
    await this.retryRunning;
    const drained = Promise.allSettled([...this.inFlight.values()]);
    const timer = sleepFor(drainMs, 'timeout' as const, { ref: false });
    if ((await Promise.race([drained, timer])) === 'timeout') {
      this.options.logger.warn(
        { inFlight: this.inFlight.size },
        'drain deadline reached; cutting provider calls',
      );
    }
    this.cutController.abort(new Error('notification service stopped'));
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Creates the group if needed, from the start of the stream so nothing written before is missed. */
  async #ensureGroup(): Promise<void> {
    const { redis, stream, group } = this.options;
    try {
      await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
    }
  }

  async #readLoop(): Promise<void> {
    const { blocking, stream, group, consumer, logger } = this.options;
    let groupReady = false;
    while (!this.stopping) {
      if (!groupReady) {
        try {
          await this.#ensureGroup();
          groupReady = true;
        } catch (err) {
          logger.warn({ err }, 'creating the consumer group failed; retrying');
          await sleepFor(1_000, undefined, { signal: this.stopController.signal }).catch(() => undefined);
          continue;
        }
      }
      await this.#slot();
      if (this.stopping) break;
      const free = this.options.maxInFlight - this.inFlight.size;
      let reply: [string, RawEntry[]][] | null;
      try {
        reply = (await blocking.xreadgroup(
          'GROUP',
          group,
          consumer,
          'COUNT',
          Math.min(this.options.batch, free),
          'BLOCK',
          this.options.blockMs,
          'STREAMS',
          stream,
          '>',
        )) as [string, RawEntry[]][] | null;
      } catch (err) {
        if (this.stopping) break;
        // The stream (and its group) was deleted: create them again.
        if (err instanceof Error && err.message.startsWith('NOGROUP')) groupReady = false;
        logger.warn({ err }, 'reading chat:notify failed; retrying');
        await sleepFor(1_000, undefined, { signal: this.stopController.signal }).catch(() => undefined);
        continue;
      }
      for (const [, entries] of reply ?? []) for (const entry of entries) this.#dispatch(entry);
    }
  }

  async #retryPass(): Promise<void> {
    let budget = PASS_BUDGET;
    budget -= await this.#ownPending(budget);
    if (budget > 0) await this.#claimStale(budget);
  }

  /** Entries this consumer read but did not acknowledge (deferred, or left by its previous life). */
  async #ownPending(budget: number): Promise<number> {
    const { redis, stream, group, consumer } = this.options;
    let seen = 0;
    while (seen < budget && !this.stopping) {
      const reply = (await redis.xreadgroup(
        'GROUP',
        group,
        consumer,
        'COUNT',
        PAGE,
        'STREAMS',
        stream,
        this.ownCursor,
      )) as [string, RawEntry[]][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) {
        this.ownCursor = '0';
        break;
      }
      for (const entry of entries) {
        this.ownCursor = entry[0];
        seen++;
        if (this.inFlight.has(entry[0])) continue;
        await this.#slot();
        if (this.stopping) break;
        this.#dispatch(entry);
      }
    }
    return seen;
  }

  /** Entries other consumers left pending longer than claimIdleMs: they are presumed dead. */
  async #claimStale(budget: number): Promise<void> {
    const { redis, stream, group, consumer, claimIdleMs, logger } = this.options;
    let cursor = '0-0';
    let seen = 0;
    do {
      const [next, entries, deleted] = (await redis.xautoclaim(
        stream,
        group,
        consumer,
        claimIdleMs,
        cursor,
        'COUNT',
        PAGE,
      )) as [string, RawEntry[], string[]?];
      if (deleted && deleted.length > 0) {
        logger.error({ ids: deleted }, 'pending chat:notify entries were deleted before they were processed');
        this.options.onLost?.(deleted);
      }
      for (const entry of entries) {
        seen++;
        if (this.inFlight.has(entry[0])) continue;
        await this.#slot();
        if (this.stopping) return;
        this.#dispatch(entry);
      }
      cursor = next;
    } while (cursor !== '0-0' && seen < budget && !this.stopping);
  }

  #dispatch([id, flat]: RawEntry): void {
    if (this.inFlight.has(id)) return;
    const work = this.#handle(id, flat).finally(() => {
      this.inFlight.delete(id);
      this.slotWaiters.shift()?.();
    });
    this.inFlight.set(id, work);
  }

  async #handle(id: string, flat: string[] | null): Promise<void> {
    const { redis, stream, group, processor, logger } = this.options;
    if (flat === null) {
      // Deleted while pending (trimmed by someone else, e.g. a producer's MAXLEN): nothing left to send.
      logger.error({ id }, 'pending chat:notify entry was deleted before it was processed');
      this.options.onLost?.([id]);
      await redis.xack(stream, group, id).catch(() => undefined);
      return;
    }
    const entry: StreamEntry = { id, fields: fieldsToRecord(flat) };
    const result = await processor.process(entry, this.signals);
    if (result !== 'ack') return;
    try {
      await redis.xack(stream, group, id);
    } catch (err) {
      // Comes back later; its deliveries are skipped by their dedupe records.
      logger.warn({ err, id }, 'acknowledging a chat:notify entry failed');
    }
  }

  /** Resolves when fewer than maxInFlight entries are being processed (or at stop). */
  #slot(): Promise<void> {
    if (this.inFlight.size < this.options.maxInFlight || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }
}
