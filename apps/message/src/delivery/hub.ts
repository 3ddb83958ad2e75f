// The instance's delivery hub: one ChannelFeed per channel with local subscribers, fed by the local
// send path and Redis; subscribe = replay from the store, then live (docs/protocol.md, "Resume").
import { withTimeout, type Logger } from '@chatcluster/kit';
import type { MessageEvent, ReactionEvent, UnsubscribeReason } from '@chatcluster/message-sdk';
import type { Bus } from '../bus/bus.js';
import type { MessageStore } from '../store/message-store.js';
import type { ChannelEpoch } from '../store/seq-counter.js';
import { eventFromDoc } from './events.js';
import { ChannelFeed, type FeedDeps } from './feed.js';
import type { DeliveryObserver } from './observer.js';
import { reactionFrame, type ReactionFrame } from './reaction-frame.js';
import type { Subscriber } from './subscriber.js';

export interface HubOptions {
  store: MessageStore;
  /** The channel's epoch (Redis): a client resuming from another epoch is not recovered. */
  epochOf?: (channelId: string) => Promise<ChannelEpoch>;
  bus: Bus;
  logger: Logger;
  /** See FeedDeps.sealAfterMs. */
  sealAfterMs: number;
  redisTimeoutMs: number;
  /** Delivery metrics, told once per fan-out (or replay). */
  observe?: DeliveryObserver;
}

/** Mutations this long before the client's last event are replayed on resume (writes time out after 5 s). */
export const MUTATION_REPLAY_SLACK_MS = 60_000;
const PAGE = 500;

export class Hub {
  readonly #feeds = new Map<string, { feed: ChannelFeed; ready: Promise<void> }>();
  readonly #feedDeps: FeedDeps;

  constructor(private readonly options: HubOptions) {
    this.#feedDeps = {
      store: options.store,
      logger: options.logger,
      sealAfterMs: options.sealAfterMs,
      settledMs: 60_000,
      ringSize: 1_000,
      bootstrapWindow: 500,
      ...(options.observe ? { observe: options.observe } : {}),
    };
    options.bus.onEvent((event) => this.receive(event));
    options.bus.onHole((channelId, seq) => this.receiveHole(channelId, seq));
    options.bus.onReaction((event) => this.receiveReaction(event));
    options.bus.onResubscribed(() => void this.#catchUpAll());
  }

  get channelCount(): number {
    return this.#feeds.size;
  }

  /** An event from Redis or the local send path. */
  receive(event: MessageEvent): void {
    this.#feeds.get(event.channelId)?.feed.receive(event);
  }

  /**
   * A reaction delta (from Redis, every instance's including ours): to the subscribers that have the
   * message. Live only: one missed while away shows in the next history read.
   */
  receiveReaction(event: ReactionEvent): void {
    const feed = this.#feeds.get(event.channelId)?.feed;
    if (!feed) return;
    let frame: ReactionFrame | undefined;
    for (const sub of feed.subs) {
      if (sub.closed || sub.cursor < event.seq) continue;
      sub.sendReaction((frame ??= reactionFrame(event)));
    }
  }

  /** `seq` of the channel is a sealed hole (sealed here, or announced by another instance). */
  receiveHole(channelId: string, seq: number): void {
    this.#feeds.get(channelId)?.feed.receiveHole(seq);
  }

  #feedFor(channelId: string): { feed: ChannelFeed; ready: Promise<void> } {
    let entry = this.#feeds.get(channelId);
    if (!entry) {
      const feed = new ChannelFeed(channelId, this.#feedDeps);
      const ready = (async () => {
        // Subscribe first so nothing published after the bootstrap read is missed; if Redis is down
        // the catch-up after its return covers the gap.
        await withTimeout(this.options.redisTimeoutMs, () => this.options.bus.subscribe(channelId), {
          operation: 'redis subscribe',
        }).catch((err: unknown) => this.options.logger.warn({ err, channelId }, 'redis subscribe failed'));
        await this.#learnEpoch(feed);
        await feed.bootstrap();
      })();
      entry = { feed, ready };
      this.#feeds.set(channelId, entry);
      ready.catch(() => this.#drop(channelId, feed));
    }
    return entry;
  }

  /** Best effort: without Redis the epoch stays unknown (resumes are judged by seq alone) until it returns. */
  async #learnEpoch(feed: ChannelFeed): Promise<void> {
    const epochOf = this.options.epochOf;
    if (!epochOf) return;
    feed.epoch = await withTimeout(this.options.redisTimeoutMs, () => epochOf(feed.channelId), {
      operation: 'channel epoch',
    }).then(
      (e) => e.epoch,
      () => feed.epoch,
    );
  }

  #drop(channelId: string, feed: ChannelFeed): void {
    if (this.#feeds.get(channelId)?.feed !== feed) return;
    this.#feeds.delete(channelId);
    feed.close();
    this.options.bus.unsubscribe(channelId).catch(() => undefined);
  }

  /**
   * Replays what the subscriber missed after `lastSeq` (and changes since `since`), then makes it
   * live. A position of another epoch (`epoch` given and not the channel's) is not recovered: the
   * subscriber starts live at the channel's current position, and the client reloads history.
   * Throws (e.g. MSG_STORE_UNAVAILABLE) when the store cannot be read; the subscriber is then removed.
   */
  async subscribe(
    sub: Subscriber,
    lastSeq: number,
    since: Date | null,
    epoch: string | null = null,
  ): Promise<{ recovered: boolean; epoch: string | null }> {
    const { feed, ready } = this.#feedFor(sub.channelId);
    feed.subs.add(sub);
    try {
      await ready;
      if (lastSeq > 0 && epoch !== null && feed.epoch !== null && epoch !== feed.epoch) {
        sub.cursor = 0;
        feed.tryAttach(sub, feed.head ?? 0, { replay: false });
        return { recovered: false, epoch: feed.epoch };
      }
      let cursor = lastSeq;
      while (!feed.tryAttach(sub, cursor)) {
        if (sub.closed || feed.closed) return { recovered: true, epoch: feed.epoch };
        const floorBefore = feed.ringFloor;
        const docs = await this.options.store.readAfter(sub.channelId, cursor, PAGE);
        let replayed = 0;
        cursor = await feed.walk(cursor, cursor, docs, (doc) => {
          if (doc.seq <= sub.cursor) return;
          sub.cursor = doc.seq;
          sub.send(eventFromDoc(doc), 'created');
          replayed++;
        });
        this.options.observe?.(replayed);
        // Nothing stored after the cursor: every seq the feed had resolved before the read is a hole.
        if (docs.length === 0) cursor = Math.max(cursor, floorBefore);
      }
      if (since && lastSeq > 0) {
        const changed = await this.options.store.changedSince(
          sub.channelId,
          lastSeq,
          new Date(since.getTime() - MUTATION_REPLAY_SLACK_MS),
          10_000,
        );
        const mutations = changed.filter((doc) => doc.version > 1);
        for (const doc of mutations) sub.send(eventFromDoc(doc), 'mutation');
        this.options.observe?.(mutations.length);
      }
      let queued = 0;
      for (const event of sub.queued.splice(0)) {
        if (event.seq > sub.cursor) continue;
        sub.send(event, 'mutation');
        queued++;
      }
      this.options.observe?.(queued);
      return { recovered: true, epoch: feed.epoch };
    } catch (err) {
      this.unsubscribe(sub);
      throw err;
    }
  }

  unsubscribe(sub: Subscriber): void {
    const entry = this.#feeds.get(sub.channelId);
    if (!entry) return;
    entry.feed.subs.delete(sub);
    if (entry.feed.subs.size === 0) this.#drop(sub.channelId, entry.feed);
  }

  /** Ends every subscription of a channel (deleted channel) or of one user in it (membership removed). */
  endSubscriptions(channelId: string, reason: UnsubscribeReason, userId?: string): void {
    const entry = this.#feeds.get(channelId);
    if (!entry) return;
    for (const sub of [...entry.feed.subs]) {
      if (userId !== undefined && sub.userId !== userId) continue;
      sub.end(reason);
      this.unsubscribe(sub);
    }
  }

  /** Redis came back: events published while it was away were lost to us, so read them. */
  async #catchUpAll(): Promise<void> {
    const since = new Date(Date.now() - MUTATION_REPLAY_SLACK_MS);
    for (const [channelId, { feed, ready }] of this.#feeds) {
      try {
        await this.options.bus.subscribe(channelId);
        await ready;
        // Redis may have come back without the counter: a new epoch then.
        await this.#learnEpoch(feed);
        await this.catchUp(feed, since);
      } catch (err) {
        this.options.logger.warn({ err, channelId }, 'catch-up after redis reconnect failed');
      }
    }
  }

  async catchUp(feed: ChannelFeed, since: Date): Promise<void> {
    if (feed.head === null) return;
    let cursor = feed.head;
    for (;;) {
      const docs = await this.options.store.readAfter(feed.channelId, cursor, PAGE);
      for (const doc of docs) {
        if (doc.hole) feed.receiveHole(doc.seq);
        else feed.receive(eventFromDoc(doc));
        cursor = doc.seq;
      }
      if (docs.length < PAGE) break;
    }
    const changed = await this.options.store.changedSince(feed.channelId, feed.head, since, 10_000);
    for (const doc of changed) if (doc.version > 1) feed.receive(eventFromDoc(doc));
  }

  close(): void {
    for (const [channelId, { feed }] of this.#feeds) this.#drop(channelId, feed);
  }
}
