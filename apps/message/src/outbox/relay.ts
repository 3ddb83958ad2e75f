// The outbox relay. A change is stored with its marker (`outboxAt`, the time of the change) in the
// same document; the relay hands it to local subscribers and publishes it to Redis together with a
// receipt (`chat:outbox:published`, in the same MULTI). Every OUTBOX_SWEEP_MS a sweeper reads the
// changes marked since the shared watermark, republishes those older than the interval that have no
// receipt (Redis was down, an instance died in between), and moves the watermark on. Markers are
// not cleared one by one: on FerretDB v1 every update rescans the collection while holding the write
// lock, which stalled every send; a receipt costs one Redis command in a MULTI we send anyway.
import type { Logger } from '@chatcluster/kit';
import type { MessageEvent } from '@chatcluster/message-sdk';
import { receiptOf, type Bus } from '../bus/bus.js';
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
   * How far behind the live edge the window restarts: a change is marked with its instance's clock
   * before the insert, which may take up to the store timeout to land.
   */
  windowLagMs: number;
}

/** Changes looked at per sweep. */
const sweepLimit = 20_000;
/** Receipts are kept this long: far beyond the sweepers' window. */
const receiptTtlMs = 3_600_000;

export class OutboxRelay {
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: RelayOptions) {}

  /** A change was stored: deliver locally now, publish in the background. */
  changed(doc: MessageDoc): void {
    const event = eventFromDoc(doc);
    this.options.local(event);
    const work = this.#publish(event).finally(() => this.#inFlight.delete(work));
    this.#inFlight.add(work);
  }

  async #publish(event: MessageEvent): Promise<boolean> {
    try {
      await this.options.bus.publish(event);
      return true;
    } catch (err) {
      this.options.logger.debug({ err, seq: event.seq }, 'publish failed; the sweeper will retry');
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

  /** Republishes overdue changes without a receipt, moves the watermark, refreshes the gauges. */
  async sweep(): Promise<void> {
    const now = Date.now();
    const until = now - this.options.sweepIntervalMs;
    const from = await this.options.store.outboxWatermark();
    const docs = await this.options.store.markedBetween(new Date(from), new Date(until), sweepLimit);
    const unreceipted: string[] = [];
    for (let i = 0; i < docs.length; i += 1_000) {
      const chunk = docs.slice(i, i + 1_000);
      const receipted = await this.options.bus.receipted(chunk.map((d) => receiptOf(d._id, d.version)));
      chunk.forEach((d, k) => !receipted[k] && unreceipted.push(d._id));
    }
    // Only the few that need republishing are read whole (ordered by their marker, as listed).
    const waiting = await this.options.store.byIds(unreceipted);
    const oldest = waiting[0]?.outboxAt;
    this.options.metrics.outboxPending.set(waiting.length);
    this.options.metrics.outboxOldest.set(oldest ? Math.max(0, (now - oldest.getTime()) / 1000) : 0);

    let stuckAt: number | undefined;
    for (const doc of waiting) {
      const event = eventFromDoc(doc);
      this.options.local(event);
      if (!(await this.#publish(event))) {
        stuckAt = doc.outboxAt!.getTime();
        break;
      }
      this.options.metrics.outboxRepublished.inc();
    }
    // Everything before the next watermark is published; the live edge is re-read for a while.
    const next =
      stuckAt ??
      (docs.length === sweepLimit
        ? docs[docs.length - 1]!.outboxAt!.getTime()
        : until - this.options.windowLagMs);
    if (next > from) await this.options.store.advanceOutboxWatermark(next);
    await this.options.bus.forgetReceipts([], now - receiptTtlMs).catch(() => undefined);
  }

  /** At shutdown: stop sweeping and let publications in flight finish. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
    await Promise.allSettled([...this.#inFlight]);
  }
}
