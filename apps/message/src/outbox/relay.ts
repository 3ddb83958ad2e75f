// The relay: publishes what is stored, and makes sure nothing stored stays unpublished.
//
// New messages have no outbox document: the message log is the outbox. Every allocated seq is in the
// channel's Redis counter (`chat:seq`), every published one in its history stream (`chat:history`).
// Every OUTBOX_SWEEP_MS one instance (the holder of `chat:relay:lock`) compares the two for the
// channels that allocated lately: a seq allocated but not published is read by `_id` and
// republished; one that stays free for `sealAfterMs` (its sender died between the allocation and
// the insert, whose write cannot land any more) is sealed as a hole and announced. Per channel,
// `chat:relay:marks` keeps the seq up to which everything was found published or sealed.
// Receivers deduplicate a republished creation by seq (the per-channel feed forwards a creation
// once), so a message published by its sender and by the relay reaches each client once.
//
// Changes of stored messages (edits, deletes, reactions) keep their outbox entries (the
// `message_outbox` collection): a change can touch any old message, which no recent window covers;
// they are rare, and the sweeper republishes what an entry older than the interval still names.
import { randomUUID } from 'node:crypto';
import type { Logger } from '@chatcluster/kit';
import type { MessageEvent } from '@chatcluster/message-sdk';
import type { Bus } from '../bus/bus.js';
import { ACTIVE_CHANNELS, RELAY_LOCK, RELAY_MARKS } from '../bus/keys.js';
import { eventFromDoc } from '../delivery/events.js';
import type { MessageMetrics } from '../metrics.js';
import type { MessageStore } from '../store/message-store.js';
import type { MessageDoc } from '../store/models.js';
import type { SeqCounter } from '../store/seq-counter.js';

export interface RelayOptions {
  store: MessageStore;
  bus: Bus;
  /** The seq counters; without them only this instance's own unpublished messages are retried. */
  seqs?: SeqCounter;
  logger: Logger;
  metrics: MessageMetrics;
  /** Local delivery, before Redis: subscribers on this instance do not wait for a round trip. */
  local: (event: MessageEvent) => void;
  /** A seq the relay found sealed: local readers are told (the sealer announced it to the others). */
  localHole: (channelId: string, seq: number) => void;
  sweepIntervalMs: number;
  /**
   * How long an allocated seq may stay free before it is sealed: past it, the sender's insert can
   * no longer land (it is also how long an outbox entry naming an unstored change is kept).
   */
  sealAfterMs: number;
}

/** Outbox entries looked at per sweep. */
const sweepLimit = 1_000;
/** Seqs checked per channel and pass, at most (a channel further behind skips to its newest ones). */
const maxLookBack = 1_000;
/** Channels that allocated within this long are checked. */
const activeWindowMs = 10 * 60_000;
/** Messages this instance stored but could not publish (Redis away), retried each sweep. */
const maxUnpublished = 100_000;

export class OutboxRelay {
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Changes stored in this turn of the event loop (a send batch answers all of its at once). */
  #toPublish: { doc: MessageDoc; event: MessageEvent }[] = [];
  /** New messages whose publication failed here, by `_id`. */
  readonly #unpublished = new Map<string, MessageEvent>();
  /** When this instance first saw a seq allocated and unpublished, by `channelId:seq`. */
  readonly #missingSince = new Map<string, number>();
  readonly #lockToken = randomUUID();

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
        if (!ok) {
          for (const { doc, event } of batch) {
            if (doc.version > 1) this.options.store.unpublished(doc);
            else this.#keepUnpublished(doc._id, event);
          }
          return;
        }
        await Promise.all(
          batch.filter((c) => c.doc.version > 1).map((c) => this.options.store.published(c.doc)),
        );
      })
      .catch((err: unknown) => this.options.logger.debug({ err }, 'outbox entry not removed; swept later'))
      .finally(() => this.#inFlight.delete(work));
    this.#inFlight.add(work);
  }

  #keepUnpublished(id: string, event: MessageEvent): void {
    this.#unpublished.set(id, event);
    while (this.#unpublished.size > maxUnpublished)
      this.#unpublished.delete(this.#unpublished.keys().next().value!);
  }

  async #publish(events: readonly MessageEvent[]): Promise<boolean> {
    try {
      await this.options.bus.publish(events);
      // A republished creation is late by then (a sweep later): it never counts as on time twice.
      const now = Date.now();
      for (const e of events) {
        if (e.type === 'message.created' && e.version === 1)
          this.options.metrics.publishLatency.observe((now - Date.parse(e.message.createdAt)) / 1000);
      }
      return true;
    } catch (err) {
      this.options.logger.debug({ err, events: events.length }, 'publish failed; the relay will retry');
      return false;
    }
  }

  start(): void {
    const tick = () => {
      this.#sweeping = this.sweep()
        .catch((err: unknown) => this.options.logger.warn({ err }, 'relay pass failed'))
        .finally(() => {
          this.#sweeping = undefined;
          if (this.#timer) this.#timer = setTimeout(tick, this.options.sweepIntervalMs);
        });
    };
    this.#timer = setTimeout(tick, this.options.sweepIntervalMs);
  }

  /** One pass: this instance's unpublished messages, overdue change entries, then the message log. */
  async sweep(): Promise<void> {
    await this.#retryUnpublished();
    await this.#sweepChanges();
    if (this.options.seqs && (await this.#holdLock())) await this.#checkLog(this.options.seqs);
  }

  async #retryUnpublished(): Promise<void> {
    if (this.#unpublished.size === 0) return;
    const entries = [...this.#unpublished];
    if (!(await this.#publish(entries.map(([, event]) => event)))) return;
    for (const [id] of entries) this.#unpublished.delete(id);
    this.options.metrics.outboxRepublished.inc(entries.length);
  }

  /** Republishes what overdue change entries name and deletes them. */
  async #sweepChanges(): Promise<void> {
    const now = Date.now();
    const entries = await this.options.store.outboxEntries(sweepLimit);
    const overdue = entries
      .filter((e) => e.at.getTime() <= now - this.options.sweepIntervalMs)
      .sort((a, b) => a.at.getTime() - b.at.getTime());
    for (const entry of overdue) {
      const docs = await this.options.store.byIdsEach(entry.ids);
      const events = docs.flatMap((doc) => (doc && !doc.hole ? [eventFromDoc(doc)] : []));
      for (const event of events) this.options.local(event);
      // Redis is away: the entries stay for the next sweep.
      if (!(await this.#publish(events))) return;
      this.options.metrics.outboxRepublished.inc(events.length);
      // A change named but not stored yet may still land while its write is within the timeout.
      if (docs.includes(null) && now - entry.at.getTime() < this.options.sealAfterMs) continue;
      await this.options.store.removeOutboxEntry(entry._id);
    }
  }

  /** One instance checks the log at a time; it keeps the lock while it lives (its "first seen" times are local). */
  async #holdLock(): Promise<boolean> {
    const redis = this.options.bus.cmd;
    const ttl = this.options.sweepIntervalMs * 3;
    try {
      if ((await redis.set(RELAY_LOCK, this.#lockToken, 'PX', ttl, 'NX')) === 'OK') return true;
      if ((await redis.get(RELAY_LOCK)) !== this.#lockToken) return false;
      await redis.pexpire(RELAY_LOCK, ttl);
      return true;
    } catch {
      return false;
    }
  }

  /** Compares each recently active channel's counter with its history stream (see the file comment). */
  async #checkLog(seqs: SeqCounter): Promise<void> {
    const redis = this.options.bus.cmd;
    const now = Date.now();
    await redis.zremrangebyscore(ACTIVE_CHANNELS, '-inf', now - activeWindowMs);
    const channels = await redis.zrangebyscore(ACTIVE_CHANNELS, now - activeWindowMs, '+inf');
    let pending = 0;
    let oldest = now;
    const seen = new Set<string>();
    for (const channelId of channels) {
      const top = await seqs.top(channelId);
      if (top === null) continue;
      const stored = await redis.hget(RELAY_MARKS, channelId);
      // A new epoch (the counter was reseeded lower) or a channel this relay never checked.
      let mark = stored === null || Number(stored) > top ? Math.max(0, top - maxLookBack) : Number(stored);
      mark = Math.max(mark, top - maxLookBack);
      if (mark >= top) {
        if (stored === null || Number(stored) !== mark) await redis.hset(RELAY_MARKS, channelId, mark);
        continue;
      }
      // Changes interleave with creations in the stream: twice the new seqs covers them in practice;
      // a seq found missing only because the read was short is read from the store and dropped by receivers.
      const published = await this.options.bus.publishedSeqs(channelId, 2 * (top - mark) + 10);
      const republish: MessageEvent[] = [];
      let contiguous = true;
      let next = mark;
      for (let seq = mark + 1; seq <= top; seq++) {
        const resolved =
          published.has(seq) || (await this.#resolveMissing(channelId, seq, now, republish, seen));
        if (resolved) this.#missingSince.delete(`${channelId}:${seq}`);
        else {
          pending++;
          oldest = Math.min(oldest, this.#missingSince.get(`${channelId}:${seq}`) ?? now);
        }
        if (resolved && contiguous) next = seq;
        else contiguous = false;
      }
      if (republish.length > 0) {
        for (const event of republish) this.options.local(event);
        if (!(await this.#publish(republish))) return;
        this.options.metrics.outboxRepublished.inc(republish.length);
        this.options.logger.info(
          { channelId, seqs: republish.map((e) => e.seq) },
          'relay republished messages',
        );
      }
      if (next !== Number(stored)) await redis.hset(RELAY_MARKS, channelId, next);
    }
    for (const key of this.#missingSince.keys()) if (!seen.has(key)) this.#missingSince.delete(key);
    this.options.metrics.outboxPending.set(pending);
    this.options.metrics.outboxOldest.set((now - oldest) / 1000);
  }

  /**
   * A seq allocated and not in the history stream: seen for the first time, it is left to its
   * sender; afterwards the store decides: a message is republished, a hole is passed on, and a
   * seq still free after `sealAfterMs` is sealed.
   */
  async #resolveMissing(
    channelId: string,
    seq: number,
    now: number,
    republish: MessageEvent[],
    seen: Set<string>,
  ): Promise<boolean> {
    const key = `${channelId}:${seq}`;
    seen.add(key);
    const since = this.#missingSince.get(key);
    if (since === undefined) {
      this.#missingSince.set(key, now);
      return false;
    }
    const doc = await this.options.store.bySeqId(channelId, seq);
    if (doc && !doc.hole) {
      republish.push(eventFromDoc(doc));
      return true;
    }
    if (doc) {
      this.options.localHole(channelId, seq);
      return true;
    }
    if (now - since < this.options.sealAfterMs) return false;
    const { doc: holder } = await this.options.store.trySeal(channelId, seq);
    if (!holder.hole) republish.push(eventFromDoc(holder));
    return true;
  }

  /** At shutdown: stop sweeping and let publications in flight finish. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
    await Promise.allSettled([...this.#inFlight]);
  }
}
