// Messages in MongoDB: seq allocation, idempotent batched inserts, hole sealing, history, edits,
// soft deletes, the outbox marker and the purge. Ordering rules: docs/protocol.md.
import { createHash, randomUUID } from 'node:crypto';
import type { mongo } from 'mongoose';
import type { MessageView, ReactionMap } from '@chatcluster/message-sdk';
import { msgErrors } from '../errors.js';
import { isDuplicateKey, type StoreGuard } from './guard.js';
import { LOCKS_COLLECTION, MessageLocks, type LeaseDoc } from './message-lock.js';
import type { CounterDoc, MessageDoc, Models, OutboxEntryDoc } from './models.js';
import type { SendRef, SeqCounter, SeqGrant } from './seq-counter.js';

export interface NewMessage {
  channelId: string;
  senderId: string;
  clientMessageId: string;
  body: string;
}

/** The outcome of one send: the stored message, or the error to answer with. */
export type CreateResult = { ok: true; doc: MessageDoc; duplicate: boolean } | { ok: false; error: Error };

export interface HistoryPage {
  items: MessageDoc[];
  /** Seq to pass as `before` for older messages, or null at the start. */
  prevBefore: number | null;
  /** Seq to pass as `after` for newer messages. */
  nextAfter: number | null;
}

const holePrefix = '~hole:';

export interface MessageStoreOptions {
  /** For the relay, sweeper and purge: slow background work must not trip the requests' breaker. */
  background?: StoreGuard;
  /** Seqs from Redis; without it (or while Redis is away) they come from the store. */
  seqs?: SeqCounter;
  /** This instance sealed a hole: readers everywhere are told at once. */
  onHoleSealed?: (channelId: string, seq: number) => void;
  /** An insert hit a unique index (a lost race or a repeat). */
  onInsertConflict?: () => void;
}

/** The document a send becomes at `seq`: version 1. */
export function newMessageDoc(item: NewMessage, seq: number, now: Date): MessageDoc {
  return {
    _id: messageIdOf(item.channelId, seq),
    channelId: item.channelId,
    seq,
    senderId: item.senderId,
    clientMessageId: item.clientMessageId,
    body: item.body,
    bodyHash: hashBody(item.body),
    createdAt: now,
    updatedAt: now,
    editedAt: null,
    deletedAt: null,
    version: 1,
    lastEvent: 'message.created',
  };
}

/**
 * The `_id` of whatever holds seq `seq` of a channel (message or hole): a name-based UUID (version
 * 5 layout, SHA-1 of channel and seq), so a seq is found by `_id`, the one lookup every store
 * indexes (FerretDB v1 on SQLite pushes down nothing else).
 */
export function messageIdOf(channelId: string, seq: number): string {
  const h = createHash('sha1').update(`${channelId}\u0000${seq}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** `reactions` come from store/reaction-store.ts (history reads); events carry none (deltas instead). */
export function toView(doc: MessageDoc, reactions: ReactionMap = {}): MessageView {
  return {
    id: doc._id,
    channelId: doc.channelId,
    seq: doc.seq,
    senderId: doc.senderId,
    clientMessageId: doc.clientMessageId,
    body: doc.body,
    createdAt: doc.createdAt.toISOString(),
    editedAt: doc.editedAt ? doc.editedAt.toISOString() : null,
    deletedAt: doc.deletedAt ? doc.deletedAt.toISOString() : null,
    reactions,
    version: doc.version,
  };
}

/** An outbox entry of this instance and how many of its changes are still to be published. */
interface EntryLeft {
  id: string;
  left: number;
}
const changeKey = (doc: MessageDoc) => `${doc._id}:${doc.version}`;
/** Changes stored here whose publication is awaited (beyond that the sweepers take over). */
const maxTracked = 100_000;
/** How far the channel counters may lag behind the stored seqs. */
const hintIntervalMs = 2_000;
/** A counter is written when it lags this many seqs (readers step over the rest by `_id`)... */
const hintLagSeqs = 64;
/** ...or this long. */
const hintMaxAgeMs = 10_000;
/** Seqs read one by one when catching up with a channel before galloping. */
const walkSteps = 8;
/** Published outbox entries are deleted together, this often. */
const removeIntervalMs = 100;

export class MessageStore {
  readonly #locks: MessageLocks;
  readonly #unpublished = new Map<string, EntryLeft>();
  /** Per channel, the highest seq this instance allocated or found taken. */
  readonly #tops = new Map<string, number>();
  /** Channels where another instance stored after `#tops`: walked forward before the next allocation. */
  readonly #behind = new Set<string>();
  /** Counter values to write. */
  readonly #hints = new Map<string, number>();
  /** What was last written to each counter, and when. */
  readonly #written = new Map<string, { seq: number; at: number }>();
  #hintTimer: NodeJS.Timeout | undefined;
  /** Published entries to delete, and the pending deletion. */
  #done: string[] = [];
  #removing: Promise<void> | undefined;

  private readonly background: StoreGuard;
  private readonly seqs: SeqCounter | undefined;
  private readonly onHoleSealed: (channelId: string, seq: number) => void;
  private readonly onInsertConflict: () => void;

  constructor(
    private readonly models: Models,
    private readonly guard: StoreGuard,
    options: MessageStoreOptions = {},
  ) {
    this.background = options.background ?? guard;
    this.seqs = options.seqs;
    this.onHoleSealed = options.onHoleSealed ?? (() => undefined);
    this.onInsertConflict = options.onInsertConflict ?? (() => undefined);
    this.#locks = new MessageLocks(models.messages.db.collection<LeaseDoc>(LOCKS_COLLECTION), guard);
  }

  /** The driver's collection, typed by our documents (string ids). */
  get #raw(): mongo.Collection<MessageDoc> {
    return this.models.messages.collection as unknown as mongo.Collection<MessageDoc>;
  }

  /**
   * Stores a batch of sends, of any channels: seqs from the Redis counter (one script per channel),
   * one insert for all. A resend gets the seq its clientMessageId was given and is answered from
   * what holds it (one read by `_id`), consuming no seq; if nothing holds it yet (the first sender
   * died, or is still writing) the resend inserts itself there and the unique `_id` decides. A failed
   * insert is read back by `_id`: our own message (a racing resend), a seq taken (the counter was
   * behind the store: it is raised) or a free seq, meaning the clientMessageId is stored at another
   * seq; that seq is then abandoned, sealed as a hole and announced at once. Without Redis, seqs
   * come from the store as before (`#allocateFromStore`), the unique indexes deciding races.
   */
  async createMany(items: readonly NewMessage[]): Promise<CreateResult[]> {
    const results: (CreateResult | undefined)[] = new Array<CreateResult | undefined>(items.length);
    // Same (channel, clientMessageId) twice in one batch: the later ones take the first one's result.
    const keyOf = (item: NewMessage) => `${item.channelId}\u0000${item.clientMessageId}`;
    const firstIndex = new Map<string, number>();
    items.forEach((item, i) => {
      if (!firstIndex.has(keyOf(item))) firstIndex.set(keyOf(item), i);
    });
    let todo = [...firstIndex.values()];
    /** Sends whose remembered seq turned out to be a hole or another message's: they take a new one. */
    const renew = new Set<number>();
    for (let round = 0; todo.length > 0 && round < 20; round++) {
      const grants = await this.#grantSeqs(items, todo, renew);
      const retry: number[] = [];
      // Resends: answered from what their seq holds, or inserted there when nothing does.
      const held = todo.filter((i) => !grants.get(i)!.fresh);
      const holders = await Promise.all(
        held.map((i) => this.bySeqId(items[i]!.channelId, grants.get(i)!.seq)),
      );
      const inserting = new Set(todo);
      held.forEach((i, k) => {
        const holder = holders[k];
        if (!holder) return;
        inserting.delete(i);
        if (!holder.hole && holder.clientMessageId === items[i]!.clientMessageId) {
          results[i] = idempotentAnswer(holder, items[i]!);
        } else {
          renew.add(i);
          retry.push(i);
        }
      });
      const order = todo.filter((i) => inserting.has(i));
      const now = new Date();
      const docs = order.map((i) => newMessageDoc(items[i]!, grants.get(i)!.seq, now));
      const failed = docs.length > 0 ? await this.#insertOrAbandon(docs) : new Set<number>();
      const repeats: { i: number; doc: MessageDoc }[] = [];
      for (let k = 0; k < docs.length; k++) {
        const i = order[k]!;
        const doc = docs[k]!;
        if (!failed.has(k)) {
          results[i] = { ok: true, doc, duplicate: false };
          continue;
        }
        this.onInsertConflict();
        const grant = grants.get(i)!;
        const holder = await this.bySeqId(doc.channelId, doc.seq);
        if (holder && !holder.hole && holder.clientMessageId === doc.clientMessageId) {
          // A resend of ours got there first (or we are the resend).
          results[i] = idempotentAnswer(holder, items[i]!);
        } else if (holder) {
          // The seq is taken: the counter lags the store, or (without Redis) another instance took it.
          if (grant.counted) await this.#raiseCounter(doc.channelId, doc.seq);
          else this.#learnTaken(doc.channelId, doc.seq);
          renew.add(i);
          retry.push(i);
        } else if (await this.trySealFree(doc.channelId, doc.seq)) {
          // The seq was free, so the clientMessageId is stored at another seq: ours is abandoned.
          repeats.push({ i, doc });
        } else {
          retry.push(i);
        }
      }
      for (const channelId of new Set(repeats.map((r) => r.doc.channelId))) {
        const mine = repeats.filter((r) => r.doc.channelId === channelId);
        const originals = await this.byClientIds(
          channelId,
          mine.map((r) => r.doc.clientMessageId),
        );
        for (const { i, doc } of mine) {
          const original = originals.get(doc.clientMessageId);
          if (original) results[i] = idempotentAnswer(original, items[i]!);
          else {
            renew.add(i);
            retry.push(i);
          }
        }
      }
      todo = retry;
    }
    return items.map((item, i) => {
      const first = firstIndex.get(keyOf(item))!;
      const own = results[i] ?? results[first];
      if (!own) {
        return {
          ok: false,
          error: msgErrors.MSG_STORE_UNAVAILABLE('could not store the message', { retryAfterSeconds: 1 }),
        };
      }
      if (!own.ok || first === i) return own;
      return idempotentAnswer(own.doc, item);
    });
  }

  /**
   * Inserts `docs` (one write: no outbox document, the message log is the outbox); indexes of those
   * that hit a unique index. When the insert fails, its seqs are sealed at once (best effort) and
   * readers told: the senders get an error and retry with a new seq. An insert that still lands
   * first keeps its seq (the unique `_id` decides) and the relay publishes it.
   */
  async #insertOrAbandon(docs: MessageDoc[]): Promise<Set<number>> {
    let failed: Set<number>;
    try {
      failed = await this.insertMany(docs);
    } catch (err) {
      for (const doc of docs) void this.trySealFree(doc.channelId, doc.seq).catch(() => undefined);
      throw err;
    }
    const tops = new Map<string, number>();
    for (const [k, doc] of docs.entries())
      if (!failed.has(k)) tops.set(doc.channelId, Math.max(tops.get(doc.channelId) ?? 0, doc.seq));
    for (const [channelId, top] of tops) this.#stored(channelId, top);
    return failed;
  }

  /**
   * A seq for each send in `todo`: from the Redis counters, every channel in one script; from the
   * store when Redis cannot be reached (`counted: false`: the unique indexes decide races).
   */
  async #grantSeqs(
    items: readonly NewMessage[],
    todo: readonly number[],
    renew: ReadonlySet<number>,
  ): Promise<Map<number, SeqGrant & { counted: boolean }>> {
    const byChannel = new Map<string, number[]>();
    for (const i of todo) {
      const list = byChannel.get(items[i]!.channelId);
      if (list) list.push(i);
      else byChannel.set(items[i]!.channelId, [i]);
    }
    const grants = new Map<number, SeqGrant & { counted: boolean }>();
    const counted = await this.#fromCounters(byChannel, items, renew);
    await Promise.all(
      [...byChannel].map(async ([channelId, indexes]) => {
        const fromCounter = counted?.get(channelId);
        if (fromCounter) {
          indexes.forEach((i, k) => grants.set(i, { ...fromCounter[k]!, counted: true }));
          return;
        }
        const top = (await this.allocate(new Map([[channelId, indexes.length]]))).get(channelId)!;
        indexes.forEach((i, k) =>
          grants.set(i, { seq: top - indexes.length + 1 + k, fresh: true, counted: false }),
        );
      }),
    );
    return grants;
  }

  /** Seqs from the Redis counters, or null when there are none or Redis cannot be reached. */
  async #fromCounters(
    byChannel: ReadonlyMap<string, readonly number[]>,
    items: readonly NewMessage[],
    renew: ReadonlySet<number>,
  ): Promise<Map<string, SeqGrant[]> | null> {
    if (!this.seqs) return null;
    const requests = new Map<string, SendRef[]>();
    for (const [channelId, indexes] of byChannel)
      requests.set(
        channelId,
        indexes.map((i) => ({ clientMessageId: items[i]!.clientMessageId, renew: renew.has(i) })),
      );
    try {
      const granted = await this.seqs.allocateMany(requests);
      // The store-based fallback goes on from here if Redis goes away.
      for (const [channelId, grants] of granted) {
        let top = 0;
        for (const g of grants) top = Math.max(top, g.seq);
        if (top > (this.#tops.get(channelId) ?? 0)) this.#setTop(channelId, top);
      }
      return granted;
    } catch {
      return null;
    }
  }

  /** A counted seq was found taken: the counter goes on after what the store holds from there. */
  async #raiseCounter(channelId: string, seq: number): Promise<void> {
    const top = await this.#walkFrom(channelId, seq);
    await this.seqs?.raise(channelId, top).catch(() => undefined);
  }

  /**
   * Without Redis: allocates `n` seqs for each channel; returns each channel's highest. The seqs follow the highest
   * this instance knows to be taken, learnt once from the channel's counter document and the
   * documents after it (read by `_id`); the unique indexes decide races with other instances, and a
   * channel that lost one is learnt again. The counter is a lower bound written behind the sends
   * (`$max`, once it lags 64 seqs or 10 s): writing it on every batch, one document per
   * channel, cost more than the insert itself on FerretDB v1.
   */
  private async allocate(counts: ReadonlyMap<string, number>): Promise<Map<string, number>> {
    const tops = new Map<string, number>();
    await Promise.all(
      [...counts].map(async ([channelId, n]) => {
        const known = this.#tops.get(channelId);
        const top =
          known === undefined
            ? await this.counter(channelId)
            : this.#behind.delete(channelId)
              ? await this.#walkFrom(channelId, known)
              : known;
        this.#setTop(channelId, top + n);
        tops.set(channelId, top + n);
      }),
    );
    return tops;
  }

  /**
   * `seq` of the channel is taken by another instance: what it stored since is read from there by
   * `_id` (a few documents), not again from the counter, which may lag 64 seqs behind.
   */
  #learnTaken(channelId: string, seq: number): void {
    const known = this.#tops.get(channelId);
    if (known === undefined) return;
    this.#setTop(channelId, Math.max(known, seq));
    this.#behind.add(channelId);
  }

  #setTop(channelId: string, top: number): void {
    this.#tops.delete(channelId);
    this.#tops.set(channelId, top);
    if (this.#tops.size > maxTracked) {
      const oldest = this.#tops.keys().next().value!;
      this.#tops.delete(oldest);
      this.#behind.delete(oldest);
    }
  }

  /** Seqs up to `top` are stored (or sealed): the counter may follow. */
  #stored(channelId: string, top: number): void {
    if ((this.#hints.get(channelId) ?? 0) < top) this.#hints.set(channelId, top);
    this.#hintTimer ??= setTimeout(() => void this.#writeHints(), hintIntervalMs).unref();
  }

  /** Writes the counters that lag far enough or long enough behind (all of them with `all`). */
  async #writeHints(all = false): Promise<void> {
    const now = Date.now();
    const due = [...this.#hints].filter(([channelId, top]) => {
      const written = this.#written.get(channelId);
      return all || !written || top - written.seq >= hintLagSeqs || now - written.at >= hintMaxAgeMs;
    });
    for (const [channelId, top] of due) {
      this.#hints.delete(channelId);
      this.#written.delete(channelId);
      this.#written.set(channelId, { seq: top, at: now });
      if (this.#written.size > maxTracked) this.#written.delete(this.#written.keys().next().value!);
      await this.background
        .run('advance counter', () =>
          this.#counters.updateOne({ _id: channelId }, { $max: { seq: top } }, { upsert: true }),
        )
        .catch(() => undefined);
    }
    this.#hintTimer = undefined;
    const next = this.#hints.entries().next();
    if (!next.done) this.#stored(...next.value);
  }

  /** Writes the counters still behind (at shutdown). */
  async flushCounters(): Promise<void> {
    clearTimeout(this.#hintTimer);
    await this.#writeHints(true);
    clearTimeout(this.#hintTimer);
    this.#hintTimer = undefined;
  }

  get #counters(): mongo.Collection<CounterDoc> {
    return this.models.counters.collection as unknown as mongo.Collection<CounterDoc>;
  }

  /** Indexes (into `docs`) of the documents that hit a unique index. */
  private async insertMany(docs: MessageDoc[]): Promise<Set<number>> {
    try {
      await this.guard.run('insert messages', () => this.#raw.insertMany(docs, { ordered: false }));
      return new Set();
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const writeErrors = (err as { writeErrors?: { index: number }[] }).writeErrors;
      if (!writeErrors) return new Set(docs.map((_, i) => i));
      return new Set(writeErrors.map((w) => w.index));
    }
  }

  private async byClientIds(channelId: string, ids: string[]): Promise<Map<string, MessageDoc>> {
    const docs = await this.guard.run('find by client id', () =>
      this.models.messages
        .find({ channelId, clientMessageId: { $in: ids } })
        .lean<MessageDoc[]>()
        .exec(),
    );
    return new Map(docs.map((d) => [d.clientMessageId, d]));
  }

  /**
   * Decides seq `seq` for everyone: inserts a hole document unless a message already holds it.
   * Returns whatever holds the seq afterwards (the message, or the hole).
   */
  async seal(channelId: string, seq: number): Promise<MessageDoc> {
    return (await this.trySeal(channelId, seq)).doc;
  }

  /** Inserts a hole at `seq` if it is free; false (without reading) when something holds it. */
  private async trySealFree(channelId: string, seq: number): Promise<boolean> {
    try {
      await this.guard.run('seal hole', () => this.#raw.insertOne(holeDoc(channelId, seq)));
      this.onHoleSealed(channelId, seq);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** `sealed` is true when this call made the hole (the seq was free). */
  async trySeal(channelId: string, seq: number): Promise<{ doc: MessageDoc; sealed: boolean }> {
    const hole = holeDoc(channelId, seq);
    try {
      await this.guard.run('seal hole', () => this.#raw.insertOne(hole));
      this.onHoleSealed(channelId, seq);
      return { doc: hole, sealed: true };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const holder = await this.bySeq(channelId, seq);
      if (!holder) throw err;
      return { doc: holder, sealed: false };
    }
  }

  /** What holds the seq, or null. */
  async bySeq(channelId: string, seq: number): Promise<MessageDoc | null> {
    return (await this.bySeqId(channelId, seq)) ?? this.#bySeqScan(channelId, seq);
  }

  /**
   * What holds the seq under its computed `_id`, or null: the indexed lookup. Callers that seal on
   * a miss use it; the seal's holder lookup falls back to the field query, for documents stored
   * with another `_id`.
   */
  async bySeqId(channelId: string, seq: number): Promise<MessageDoc | null> {
    const doc = await this.guard.run('find by seq', () =>
      this.models.messages
        .findOne({ _id: messageIdOf(channelId, seq) })
        .lean<MessageDoc>()
        .exec(),
    );
    return doc && doc.channelId === channelId && doc.seq === seq ? doc : null;
  }

  #bySeqScan(channelId: string, seq: number): Promise<MessageDoc | null> {
    return this.guard.run('find by seq fields', () =>
      this.models.messages.findOne({ channelId, seq }).lean<MessageDoc>().exec(),
    );
  }

  /** Documents (holes included) with seq > afterSeq, ascending. */
  readAfter(channelId: string, afterSeq: number, limit: number): Promise<MessageDoc[]> {
    return this.guard.run('read after', () =>
      this.models.messages
        .find({ channelId, seq: { $gt: afterSeq } })
        .sort({ seq: 1 })
        .limit(limit)
        .lean<MessageDoc[]>()
        .exec(),
    );
  }

  /** Messages of seq <= maxSeq changed at or after `since`, ascending by seq. */
  changedSince(channelId: string, maxSeq: number, since: Date, limit: number): Promise<MessageDoc[]> {
    return this.guard.run('read changes', () =>
      this.models.messages
        .find({ channelId, updatedAt: { $gte: since }, seq: { $lte: maxSeq } })
        .sort({ seq: 1 })
        .limit(limit)
        .lean<MessageDoc[]>()
        .exec(),
    );
  }

  /**
   * The channel's highest stored seq as far as it is known (0 when none): the counter, then the
   * documents after it, read by `_id`, while there are any (seqs whose write is in flight are not).
   */
  async counter(channelId: string): Promise<number> {
    const doc = await this.guard.run('read counter', () => this.#counters.findOne({ _id: channelId }));
    return this.#walkFrom(channelId, doc?.seq ?? 0);
  }

  /**
   * A stored seq at `top` or after it whose next one is free, read by `_id`: step by step while few
   * were stored elsewhere; then, as another instance may store faster than one read a seq keeps up
   * with, galloping to a free seq and halving back towards the first one (a bounded number of reads).
   */
  async #walkFrom(channelId: string, top: number): Promise<number> {
    for (let i = 0; i < walkSteps; i++) {
      if (!(await this.bySeqId(channelId, top + 1))) return top;
      top++;
    }
    let step = walkSteps * 2;
    while (await this.bySeqId(channelId, top + step)) {
      top += step;
      step *= 2;
    }
    let free = top + step;
    while (free - top > 1) {
      const mid = Math.floor((top + free) / 2);
      if (await this.bySeqId(channelId, mid)) top = mid;
      else free = mid;
    }
    return top;
  }

  async history(
    channelId: string,
    query: { before?: number | undefined; after?: number | undefined; limit: number },
  ): Promise<HistoryPage> {
    const { before, after, limit } = query;
    const filter: Record<string, unknown> = { channelId, hole: { $ne: true } };
    const seq: Record<string, number> = {};
    if (before !== undefined) seq['$lt'] = before;
    if (after !== undefined) seq['$gt'] = after;
    if (Object.keys(seq).length > 0) filter['seq'] = seq;
    // Without `after` the page is the newest ones before the cursor; with it, the oldest after it.
    const ascending = after !== undefined && before === undefined;
    const docs = await this.guard.run('history', () =>
      this.models.messages
        .find(filter)
        .sort({ seq: ascending ? 1 : -1 })
        .limit(limit + 1)
        .lean<MessageDoc[]>()
        .exec(),
    );
    const more = docs.length > limit;
    const page = docs.slice(0, limit);
    if (!ascending) page.reverse();
    const first = page[0]?.seq;
    const last = page[page.length - 1]?.seq;
    return {
      items: page,
      prevBefore: first !== undefined && (ascending || more) ? first : null,
      nextAfter: last ?? after ?? null,
    };
  }

  /** Changes one live message; `check` runs on the current document and may throw. */
  private async change(
    channelId: string,
    seq: number,
    event: string,
    update: Record<string, unknown>,
    check: (doc: MessageDoc) => void,
  ): Promise<MessageDoc> {
    return this.#locks.with(`${channelId}:${seq}`, () =>
      this.#changeLocked(channelId, seq, event, update, check),
    );
  }

  async #changeLocked(
    channelId: string,
    seq: number,
    event: string,
    update: Record<string, unknown>,
    check: (doc: MessageDoc) => void,
  ): Promise<MessageDoc> {
    const current = await this.bySeq(channelId, seq);
    if (!current || current.hole) throw msgErrors.MSG_NOT_FOUND(`no message ${seq} in this channel`);
    check(current);
    const now = new Date();
    const set = (update['$set'] as Record<string, unknown> | undefined) ?? {};
    const entry = await this.#addOutboxEntry([current._id], now);
    const doc = await this.guard.run('change message', () =>
      this.models.messages
        .findOneAndUpdate(
          { channelId, seq, deletedAt: null },
          {
            ...update,
            $set: { ...set, updatedAt: now, lastEvent: event },
            $inc: { version: 1 },
          },
          { new: true, lean: true },
        )
        .exec(),
    );
    this.#track(entry, doc ? [doc] : []);
    if (!doc) throw msgErrors.MSG_ALREADY_DELETED(`message ${seq} is deleted`);
    return doc;
  }

  edit(channelId: string, seq: number, userId: string, body: string): Promise<MessageDoc> {
    return this.change(channelId, seq, 'message.edited', { $set: { body, editedAt: new Date() } }, (doc) => {
      if (doc.senderId !== userId) throw msgErrors.MSG_NOT_SENDER('only the sender may edit a message');
      if (doc.deletedAt) throw msgErrors.MSG_ALREADY_DELETED(`message ${seq} is deleted`);
    });
  }

  /** Soft delete: a tombstone keeps the seq. Deleting a deleted message answers the tombstone. */
  async softDelete(
    channelId: string,
    seq: number,
    userId: string,
    mayModerate: boolean,
  ): Promise<MessageDoc> {
    let tombstone: MessageDoc | undefined;
    try {
      return await this.change(
        channelId,
        seq,
        'message.deleted',
        { $set: { body: '', deletedAt: new Date() } },
        (doc) => {
          if (doc.senderId !== userId && !mayModerate) {
            throw msgErrors.MSG_NOT_SENDER('only the sender or a channel owner may delete a message');
          }
          if (doc.deletedAt) tombstone = doc;
        },
      );
    } catch (err) {
      if (tombstone) return tombstone;
      throw err;
    }
  }

  /** Names a change about to be stored (before it is): a crash after the write leaves it for the sweepers. */
  async #addOutboxEntry(ids: string[], at: Date): Promise<string> {
    const _id = randomUUID();
    await this.guard.run('add outbox entry', () => this.#outbox.insertOne({ _id, at, ids }));
    return _id;
  }

  #track(entry: string, stored: readonly MessageDoc[]): void {
    if (stored.length === 0) {
      void this.removeOutboxEntry(entry).catch(() => undefined);
      return;
    }
    const left: EntryLeft = { id: entry, left: stored.length };
    for (const doc of stored) this.#unpublished.set(changeKey(doc), left);
    while (this.#unpublished.size > maxTracked)
      this.#unpublished.delete(this.#unpublished.keys().next().value!);
  }

  /**
   * The relay published this change: the entry goes once every change it names went (entries are
   * deleted together every 100 ms: one write instead of one per batch).
   */
  async published(doc: MessageDoc): Promise<void> {
    const key = changeKey(doc);
    const entry = this.#unpublished.get(key);
    if (!entry) return;
    this.#unpublished.delete(key);
    if (--entry.left > 0) return;
    this.#done.push(entry.id);
    this.#removing ??= new Promise<void>((resolve) => setTimeout(resolve, removeIntervalMs).unref()).then(
      () => {
        const ids = this.#done.splice(0);
        this.#removing = undefined;
        return this.background
          .run('remove outbox entries', () => this.#outbox.deleteMany({ _id: { $in: ids } }))
          .then(() => undefined);
      },
    );
    await this.#removing;
  }

  /** The relay could not publish this change: its entry stays for the sweepers. */
  unpublished(doc: MessageDoc): void {
    this.#unpublished.delete(changeKey(doc));
  }

  async removeOutboxEntry(id: string): Promise<void> {
    await this.background.run('remove outbox entry', () => this.#outbox.deleteOne({ _id: id }));
  }

  /** Outbox entries (a small collection: only what is being stored or could not be published). */
  outboxEntries(limit: number): Promise<OutboxEntryDoc[]> {
    return this.background.run('read outbox', () => this.#outbox.find({}).limit(limit).toArray());
  }

  /** Documents by `_id`, one indexed lookup each, in the order given (null where none). */
  async byIdsEach(ids: readonly string[]): Promise<(MessageDoc | null)[]> {
    const docs: (MessageDoc | null)[] = [];
    for (let i = 0; i < ids.length; i += 50) {
      const chunk = ids.slice(i, i + 50);
      docs.push(
        ...(await Promise.all(
          chunk.map((id) => this.background.run('read by id', () => this.#raw.findOne({ _id: id }))),
        )),
      );
    }
    return docs;
  }

  get #outbox(): mongo.Collection<OutboxEntryDoc> {
    return this.models.outbox.collection as unknown as mongo.Collection<OutboxEntryDoc>;
  }

  /** Removes tombstones deleted before `cutoff`; returns how many. */
  async purgeTombstones(cutoff: Date): Promise<number> {
    const res = await this.background.run('purge tombstones', () =>
      this.models.messages.deleteMany({ deletedAt: { $lt: cutoff } }).exec(),
    );
    return res.deletedCount;
  }

  async markChannelDeleted(channelId: string, authSeq: number, deletedAt: Date): Promise<void> {
    await this.guard.run('mark channel deleted', () =>
      this.models.deletedChannels
        .updateOne({ _id: channelId }, { $setOnInsert: { deletedAt, authSeq } }, { upsert: true })
        .exec(),
    );
  }

  async deletedChannelIds(): Promise<string[]> {
    const docs = await this.guard.run('deleted channels', () =>
      this.models.deletedChannels.find({}).select({ _id: 1 }).lean<{ _id: string }[]>().exec(),
    );
    return docs.map((d) => d._id);
  }
}

function holeDoc(channelId: string, seq: number): MessageDoc {
  const now = new Date();
  return {
    _id: messageIdOf(channelId, seq),
    channelId,
    seq,
    senderId: '~',
    clientMessageId: `${holePrefix}${seq}`,
    body: '',
    createdAt: now,
    updatedAt: now,
    editedAt: null,
    deletedAt: null,
    version: 1,
    lastEvent: 'hole',
    hole: true,
  };
}

function hashBody(body: string): string {
  return createHash('sha256').update(body).digest('base64url');
}

function idempotentAnswer(stored: MessageDoc, attempt: NewMessage): CreateResult {
  const sameBody = stored.bodyHash
    ? stored.bodyHash === hashBody(attempt.body)
    : stored.body === attempt.body;
  if (stored.senderId === attempt.senderId && sameBody) {
    return { ok: true, doc: stored, duplicate: true };
  }
  return {
    ok: false,
    error: msgErrors.MSG_IDEMPOTENCY_MISMATCH(
      `clientMessageId ${attempt.clientMessageId} was already used with another body`,
    ),
  };
}
