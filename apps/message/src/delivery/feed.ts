// The per-channel ordering point of one instance: events of a channel arrive from the local send
// path, Redis, catch-up reads and gap resolution in any order and any number of times; subscribers
// get every message seq once, in order. `head` is the highest seq up to which every seq is resolved
// (a stored message or a sealed hole). See docs/protocol.md, "The guarantee".
import type { Logger } from '@chatcluster/kit';
import type { MessageEvent } from '@chatcluster/message-sdk';
import type { MessageStore } from '../store/message-store.js';
import type { MessageDoc } from '../store/models.js';
import { eventFromDoc, newer } from './events.js';
import type { DeliveryObserver } from './observer.js';
import type { Subscriber } from './subscriber.js';

export interface FeedDeps {
  store: MessageStore;
  logger: Logger;
  /**
   * How long a missing seq may stay free before a reader seals it: past it, its sender's insert can
   * no longer land. Until then readers only look it up (a sender's failed insert or the relay seals
   * it sooner, and the announcement resolves it at once).
   */
  sealAfterMs: number;
  /** How often a missing seq is looked up in the store meanwhile (500 ms when not given). */
  lookupMs?: number;
  /** A gap older than this (judged by a later message's creation time) is settled: no wait, no seal. */
  settledMs: number;
  /** Dispatched seqs kept in memory so joining subscribers skip the store. */
  ringSize: number;
  /** How far below the counter a new feed verifies seqs. */
  bootstrapWindow: number;
  /** Told once per fan-out how many frames were written (metrics). */
  observe?: DeliveryObserver;
}

/** `null` marks a hole. */
type Slot = MessageEvent | null;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export class ChannelFeed {
  head: number | null = null;
  /** The channel's epoch as last learnt from Redis; null while unknown. */
  epoch: string | null = null;
  /** The ring holds every resolved seq in (ringFloor, head]. */
  ringFloor = 0;
  readonly ring = new Map<number, Slot>();
  readonly pending = new Map<number, Slot>();
  readonly subs = new Set<Subscriber>();
  readonly #versions = new Map<number, number>();
  readonly #resolvers = new Map<number, Promise<MessageDoc | null>>();
  /**
   * When seqs were first seen missing: every seq in (previous mark's upTo, upTo] since `at`. A run of
   * missing seqs is waited for once, not each in turn (after an outage, hundreds of seqs may be holes).
   */
  readonly #missingSince: { upTo: number; at: number }[] = [];
  #gapScheduled = false;
  #closed = false;

  constructor(
    readonly channelId: string,
    private readonly deps: FeedDeps,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    this.pending.clear();
    this.ring.clear();
  }

  /**
   * Sets `head` to the channel counter after resolving the recent seqs below it. Events that
   * arrive meanwhile wait in `pending` (the Redis subscription is made before this runs).
   */
  async bootstrap(): Promise<void> {
    const top = await this.deps.store.counter(this.channelId);
    const from = Math.max(0, top - this.deps.bootstrapWindow);
    const docs = await this.deps.store.readAfter(this.channelId, from, this.deps.bootstrapWindow);
    await this.walk(
      from,
      top,
      docs.filter((d) => d.seq <= top),
      () => undefined,
    );
    if (this.#closed) return;
    this.head = Math.max(top, this.head ?? 0);
    this.ringFloor = this.head;
    this.drain();
  }

  /**
   * Visits every seq in (from, docs' end] (or up to `until` when larger), in order: stored docs and
   * resolved gaps, calling `visit` for each message (holes are skipped). Returns the last seq visited.
   */
  async walk(
    from: number,
    until: number,
    docs: readonly MessageDoc[],
    visit: (doc: MessageDoc) => void,
  ): Promise<number> {
    let cursor = from;
    const fill = async (upTo: number, nextDoc: MessageDoc | undefined) => {
      const settled = nextDoc !== undefined && Date.now() - nextDoc.createdAt.getTime() > this.deps.settledMs;
      for (let m = cursor + 1; m < upTo; m++) {
        if (this.#closed) return;
        if (!settled) {
          const filled = await this.resolveMissing(m);
          if (filled) visit(filled);
        }
        cursor = m;
      }
    };
    for (const doc of docs) {
      await fill(doc.seq, doc);
      if (!doc.hole) visit(doc);
      cursor = doc.seq;
    }
    if (until > cursor) await fill(until + 1, undefined);
    return cursor;
  }

  /**
   * Resolves seq `seq`: the message (or null for a hole) once it is published, announced sealed,
   * or found in the store, looked up `lookupMs` after it was first missed and then at doubling
   * intervals; sealed here only `sealAfterMs` after it was missed, when its sender's insert can no
   * longer land (a run of seqs missed together is waited for once). Shared by everyone asking.
   * Nearly every gap is an insert still in flight on another instance, filled by its publication:
   * lookups at a fixed interval multiplied store reads exactly when the store was slow.
   */
  resolveMissing(seq: number): Promise<MessageDoc | null> {
    if (this.head !== null && seq <= this.head) {
      // Already decided here: a hole, or a message to read (committed after the caller's read).
      if (this.ring.get(seq) === null) return Promise.resolve(null);
      return this.deps.store.bySeq(this.channelId, seq).then((doc) => (doc && !doc.hole ? doc : null));
    }
    let resolver = this.#resolvers.get(seq);
    if (!resolver) {
      const since = this.#missingSince.find((mark) => mark.upTo >= seq)?.at ?? Date.now();
      resolver = (async () => {
        const sealAt = since + this.deps.sealAfterMs;
        let interval = this.deps.lookupMs ?? 500;
        // A seq of a run missed long ago is looked up at once, then it backs off like the first.
        for (let lookupAt = since + interval; ; lookupAt = Date.now() + (interval *= 2)) {
          await sleep(Math.max(0, Math.min(lookupAt, sealAt) - Date.now()));
          // Dispatched meanwhile (its event or the hole's announcement arrived): nothing to do.
          if (this.#closed || (this.head !== null && seq <= this.head)) return null;
          const known = this.pending.get(seq);
          if (known !== undefined) return known ? await this.deps.store.bySeq(this.channelId, seq) : null;
          const doc = await this.deps.store.bySeqId(this.channelId, seq);
          if (doc) return doc.hole ? null : doc;
          if (Date.now() >= sealAt) {
            const sealed = await this.deps.store.seal(this.channelId, seq);
            return sealed.hole ? null : sealed;
          }
        }
      })();
      const settle = () => this.#resolvers.delete(seq);
      resolver.then(settle, settle);
      this.#resolvers.set(seq, resolver);
    }
    return resolver;
  }

  /** Any event about this channel, from anywhere, any number of times. */
  receive(event: MessageEvent): void {
    if (this.#closed) return;
    const { seq } = event;
    if (this.head === null || seq > this.head) {
      const slot = this.pending.get(seq);
      this.pending.set(seq, newer(slot ?? undefined, event));
      this.drain();
      return;
    }
    // A change of a message already dispatched.
    const inRing = this.ring.get(seq);
    if (inRing) this.ring.set(seq, newer(inRing, event));
    // A creation again (republished by the relay, or published by its sender after a reader found
    // it in the store): every subscriber past it has it.
    if (event.version <= 1) return;
    if ((this.#versions.get(seq) ?? 0) >= event.version) return;
    this.#rememberVersion(seq, event.version);
    let sent = 0;
    for (const sub of this.subs) {
      if (sub.closed) continue;
      if (!sub.live) sub.queued.push(event);
      else if (sub.cursor >= seq) {
        sub.send(event, 'mutation');
        sent++;
      }
    }
    this.deps.observe?.(sent, { event, kind: 'mutation' });
  }

  receiveHole(seq: number): void {
    if (this.#closed || (this.head !== null && seq <= this.head)) return;
    if (!this.pending.has(seq)) this.pending.set(seq, null);
    this.drain();
  }

  /** Dispatches every consecutive resolved seq after head; schedules gap resolution otherwise. */
  drain(): void {
    if (this.head === null || this.#closed) return;
    let head: number = this.head;
    for (;;) {
      const next = head + 1;
      if (!this.pending.has(next)) break;
      const slot = this.pending.get(next)!;
      this.pending.delete(next);
      this.head = head = next;
      this.#pushRing(next, slot);
      if (slot) this.#dispatchCreated(slot);
    }
    // Anything left is past a gap.
    let highest = head;
    for (const seq of this.pending.keys()) {
      if (seq <= head) this.pending.delete(seq);
      else highest = Math.max(highest, seq);
    }
    while (this.#missingSince.length > 0 && this.#missingSince[0]!.upTo <= head) this.#missingSince.shift();
    const noticed = this.#missingSince.at(-1)?.upTo ?? head;
    if (highest > noticed) this.#missingSince.push({ upTo: highest, at: Date.now() });
    if (this.pending.size > 0 && !this.#gapScheduled) this.#resolveGap(head + 1);
  }

  #resolveGap(seq: number): void {
    this.#gapScheduled = true;
    this.resolveMissing(seq).then(
      (doc) => {
        this.#gapScheduled = false;
        if (doc) this.receive(eventFromDoc(doc));
        else this.receiveHole(seq);
        this.drain();
      },
      (err: unknown) => {
        // The store is down: try again shortly; events keep waiting in order.
        this.deps.logger.warn({ err, channelId: this.channelId, seq }, 'gap resolution failed; retrying');
        setTimeout(() => {
          this.#gapScheduled = false;
          this.drain();
        }, 1_000).unref();
      },
    );
  }

  #dispatchCreated(event: MessageEvent): void {
    this.#rememberVersion(event.seq, event.version);
    let sent = 0;
    for (const sub of this.subs) {
      if (sub.closed || !sub.live || event.seq <= sub.cursor) continue;
      sub.cursor = event.seq;
      sub.send(event, 'created');
      sent++;
    }
    this.deps.observe?.(sent, { event, kind: 'created' });
  }

  #pushRing(seq: number, slot: Slot): void {
    this.ring.set(seq, slot);
    while (this.ring.size > this.deps.ringSize) {
      const oldest = this.ring.keys().next().value!;
      this.ring.delete(oldest);
      this.ringFloor = oldest;
    }
  }

  #rememberVersion(seq: number, version: number): void {
    this.#versions.delete(seq);
    this.#versions.set(seq, version);
    if (this.#versions.size > this.deps.ringSize * 4)
      this.#versions.delete(this.#versions.keys().next().value!);
  }

  /**
   * Brings a replaying subscriber from `cursor` to live, synchronously: from the ring when it covers
   * the rest, so nothing can be dispatched in between. False when the store must be read first.
   */
  tryAttach(sub: Subscriber, cursor: number, options: { replay?: boolean } = {}): boolean {
    if (this.head === null || cursor < this.ringFloor) return false;
    let sent = 0;
    for (const [seq, slot] of this.ring) {
      if (seq <= cursor) continue;
      cursor = seq;
      if (slot && options.replay !== false) {
        sub.cursor = seq;
        sub.send(slot, 'created');
        sent++;
      }
    }
    this.deps.observe?.(sent);
    sub.cursor = Math.max(sub.cursor, cursor);
    sub.live = true;
    return true;
  }
}
