// The outbox relay. Before a change is stored, an outbox entry naming it is written (the
// `message_outbox` collection), and the change carries its marker (`outboxAt`, the time of the
// change) in its own document; the relay hands it to local subscribers, publishes it to Redis and
// deletes the entry once everything it names is published. Every OUTBOX_SWEEP_MS a sweeper on each
// instance reads the entries older than the interval (Redis was down, an instance died in between),
// republishes the current state of what they name and deletes them. The entries are the only thing
// the sweepers read, and they are few: on FerretDB v1 any query but one by `_id` reads the whole
// collection, so sweeping the messages themselves grew with the collection and stalled every send.
import type { Logger } from '@chatcluster/kit';
import type { MessageEvent } from '@chatcluster/message-sdk';
import type { Bus } from '../bus/bus.js';
import { eventFromDoc } from '../delivery/events.js';
import type { MessageMetrics } from '../metrics.js';
import type { MessageStore } from '../store/message-store.js';
import type { MessageDoc } from '../store/models.js';

export interface RelayOptions {
  store: MessageStore;
  bus: Bus;
  logger: Logger;
  metrics: MessageMetrics;
  /** Local delivery, before Redis: subscribers on this instance do not wait for a round trip. */
  local: (event: MessageEvent) => void;
  sweepIntervalMs: number;
  /**
   * How long an entry naming a change that is not stored is kept: the entry is written before the
   * change, whose write may take up to the store timeout to land.
   */
  windowLagMs: number;
}

/** Entries looked at per sweep. */
const sweepLimit = 1_000;

export class OutboxRelay {
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Changes stored in this turn of the event loop (a send batch answers all of its at once). */
  #toPublish: { doc: MessageDoc; event: MessageEvent }[] = [];

  constructor(private readonly options: RelayOptions) {}

  /** A change was stored: deliver locally now, publish with the others of this turn in the background. */
  changed(doc: MessageDoc): void {
    const event = eventFromDoc(doc);
    this.options.local(event);
    if (this.#toPublish.push({ doc, event }) === 1) queueMicrotask(() => this.#publishBatch());
  }

  #publishBatch(): void {
    const batch = this.#toPublish;
    this.#toPublish = [];
    const work = this.#publish(batch.map((c) => c.event))
      .then(async (ok) => {
        if (!ok) return batch.forEach((c) => this.options.store.unpublished(c.doc));
        await Promise.all(batch.map((c) => this.options.store.published(c.doc)));
      })
      .catch((err: unknown) => this.options.logger.debug({ err }, 'outbox entry not removed; swept later'))
      .finally(() => this.#inFlight.delete(work));
    this.#inFlight.add(work);
  }

  async #publish(events: readonly MessageEvent[]): Promise<boolean> {
    try {
      await this.options.bus.publish(events);
      return true;
    } catch (err) {
      this.options.logger.debug({ err, events: events.length }, 'publish failed; the sweeper will retry');
      return false;
    }
  }

  start(): void {
    const tick = () => {
      this.#sweeping = this.sweep()
        .catch((err: unknown) => this.options.logger.warn({ err }, 'outbox sweep failed'))
        .finally(() => {
          this.#sweeping = undefined;
          if (this.#timer) this.#timer = setTimeout(tick, this.options.sweepIntervalMs);
        });
    };
    this.#timer = setTimeout(tick, this.options.sweepIntervalMs);
  }

  /** Republishes what overdue entries name, deletes them, refreshes the gauges. */
  async sweep(): Promise<void> {
    const now = Date.now();
    const entries = await this.options.store.outboxEntries(sweepLimit);
    const overdue = entries
      .filter((e) => e.at.getTime() <= now - this.options.sweepIntervalMs)
      .sort((a, b) => a.at.getTime() - b.at.getTime());
    const oldest = overdue[0]?.at;
    this.options.metrics.outboxPending.set(overdue.reduce((n, e) => n + e.ids.length, 0));
    this.options.metrics.outboxOldest.set(oldest ? Math.max(0, (now - oldest.getTime()) / 1000) : 0);

    for (const entry of overdue) {
      const docs = await this.options.store.byIdsEach(entry.ids);
      const events = docs.flatMap((doc) => (doc && !doc.hole ? [eventFromDoc(doc)] : []));
      for (const event of events) this.options.local(event);
      // Redis is away: the entries stay for the next sweep.
      if (!(await this.#publish(events))) return;
      this.options.metrics.outboxRepublished.inc(events.length);
      // A change named but not stored yet may still land while its write is within the timeout.
      if (docs.includes(null) && now - entry.at.getTime() < this.options.windowLagMs) continue;
      await this.options.store.removeOutboxEntry(entry._id);
    }
  }

  /** At shutdown: stop sweeping and let publications in flight finish. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
    await Promise.allSettled([...this.#inFlight]);
  }
}
