// The ordering point, against an in-memory store: events in any order and any number of times come
// out once, in seq order; a missing seq is read from the store, or sealed once its sender's insert
// can no longer land.
import { expect } from 'chai';
import { pino } from 'pino';
import type { MessageEvent } from '@chatcluster/message-sdk';
import { eventFromDoc } from '../../src/delivery/events.js';
import { ChannelFeed } from '../../src/delivery/feed.js';
import type { Subscriber } from '../../src/delivery/subscriber.js';
import type { MessageStore } from '../../src/store/message-store.js';
import type { MessageDoc } from '../../src/store/models.js';

const channelId = 'c';

function doc(seq: number, version = 1, body = `m${seq}`): MessageDoc {
  const at = new Date(Date.now() - 1_000);
  return {
    _id: `id${seq}`,
    channelId,
    seq,
    senderId: 'u',
    clientMessageId: `c${seq}`,
    body,
    createdAt: at,
    updatedAt: at,
    editedAt: null,
    deletedAt: null,
    version,
    lastEvent: version === 1 ? 'message.created' : 'message.edited',
  };
}

class FakeStore {
  readonly docs = new Map<number, MessageDoc>();
  counterValue = 0;
  sealed: number[] = [];
  counter = () => Promise.resolve(this.counterValue);
  readAfter = (_c: string, after: number, limit: number) =>
    Promise.resolve(
      [...this.docs.values()]
        .filter((d) => d.seq > after)
        .sort((a, b) => a.seq - b.seq)
        .slice(0, limit),
    );
  bySeq = (_c: string, seq: number) => Promise.resolve(this.docs.get(seq) ?? null);
  bySeqId = this.bySeq;
  seal = (_c: string, seq: number) => {
    const existing = this.docs.get(seq);
    if (existing) return Promise.resolve(existing);
    this.sealed.push(seq);
    const hole = { ...doc(seq), hole: true };
    this.docs.set(seq, hole);
    return Promise.resolve(hole);
  };
}

function subscriber(cursor: number): Subscriber & { got: [string, number, number][] } {
  const got: [string, number, number][] = [];
  return {
    channelId,
    userId: 'u',
    cursor,
    live: true,
    queued: [],
    closed: false,
    got,
    send(event: MessageEvent, kind: 'created' | 'mutation') {
      got.push([kind, event.seq, event.version]);
    },
    sendReaction() {},
    end() {},
  };
}

async function feedWith(store: FakeStore, sealAfterMs = 20): Promise<ChannelFeed> {
  const feed = new ChannelFeed(channelId, {
    store: store as unknown as MessageStore,
    logger: pino({ level: 'silent' }),
    sealAfterMs,
    lookupMs: 10,
    settledMs: 60_000,
    ringSize: 100,
    bootstrapWindow: 50,
  });
  await feed.bootstrap();
  return feed;
}

describe('message: the per-channel ordering point', () => {
  it('delivers early and repeated events once, in seq order', async () => {
    const store = new FakeStore();
    const feed = await feedWith(store);
    const sub = subscriber(0);
    feed.subs.add(sub);
    for (const seq of [2, 3, 1, 3, 2, 4, 1]) feed.receive(eventFromDoc(doc(seq)));
    expect(sub.got).to.deep.equal([
      ['created', 1, 1],
      ['created', 2, 1],
      ['created', 3, 1],
      ['created', 4, 1],
    ]);
  });

  it('reads a missing seq from the store, or seals it as a hole once it can no longer be written', async () => {
    const store = new FakeStore();
    const feed = await feedWith(store);
    const sub = subscriber(0);
    feed.subs.add(sub);
    store.docs.set(1, doc(1)); // stored, but its publication was lost
    feed.receive(eventFromDoc(doc(2)));
    feed.receive(eventFromDoc(doc(4))); // 3 was allocated and never stored
    expect(sub.got).to.deep.equal([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(sub.got.map(([, seq]) => seq)).to.deep.equal([1, 2, 4]);
    expect(store.sealed).to.deep.equal([3]);
    expect(feed.head).to.equal(4);
  });

  it('waits once for a run of missing seqs, not for each in turn (holes left by an outage)', async () => {
    const store = new FakeStore();
    const feed = await feedWith(store, 100);
    const sub = subscriber(0);
    feed.subs.add(sub);
    // Seqs 1-40 were allocated during an outage and never stored; 41 arrives.
    const started = Date.now();
    feed.receive(eventFromDoc(doc(41)));
    while (feed.head !== 41 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 10));
    const took = Date.now() - started;
    expect(sub.got.map(([, seq]) => seq)).to.deep.equal([41]);
    expect(store.sealed).to.have.length(40);
    expect(took, '40 holes resolved after one wait of 100 ms').to.be.within(100, 1_000);
  });

  it('looks a missing seq up at doubling intervals, not at every lookup interval', async () => {
    const store = new FakeStore();
    let lookups = 0;
    store.bySeqId = (c: string, seq: number) => {
      lookups++;
      return store.bySeq(c, seq);
    };
    const feed = await feedWith(store, 1_000);
    feed.subs.add(subscriber(0));
    feed.receive(eventFromDoc(doc(2))); // 1 is still being inserted elsewhere
    await new Promise((r) => setTimeout(r, 330));
    // At 10, 30, 70, 150 and 310 ms (every 10 ms would be 33 reads).
    expect(lookups).to.be.within(3, 6);
    feed.receive(eventFromDoc(doc(1)));
    expect(feed.head).to.equal(2);
  });

  it('never sends a creation again to a subscriber past it (a relay republishing what readers hold)', async () => {
    const store = new FakeStore();
    store.counterValue = 5;
    for (let seq = 1; seq <= 5; seq++) store.docs.set(seq, doc(seq));
    const feed = await feedWith(store);
    const sub = subscriber(5);
    feed.subs.add(sub);
    for (const seq of [3, 5]) feed.receive(eventFromDoc(doc(seq)));
    feed.receive(eventFromDoc(doc(4, 2)));
    expect(sub.got).to.deep.equal([['mutation', 4, 2]]);
  });

  it('sends a newer version of a delivered message once, and folds early changes into the creation', async () => {
    const store = new FakeStore();
    const feed = await feedWith(store);
    const sub = subscriber(0);
    feed.subs.add(sub);
    feed.receive(eventFromDoc(doc(1)));
    feed.receive(eventFromDoc(doc(1, 2)));
    feed.receive(eventFromDoc(doc(1, 2)));
    feed.receive(eventFromDoc(doc(1, 1)));
    feed.receive(eventFromDoc(doc(3, 2))); // changed before 2 arrived: goes out as its creation
    feed.receive(eventFromDoc(doc(3, 1)));
    feed.receive(eventFromDoc(doc(2)));
    expect(sub.got).to.deep.equal([
      ['created', 1, 1],
      ['mutation', 1, 2],
      ['created', 2, 1],
      ['created', 3, 2],
    ]);
  });

  it('brings a late subscriber from its cursor through the ring without gaps or repeats', async () => {
    const store = new FakeStore();
    store.counterValue = 2;
    store.docs.set(1, doc(1));
    store.docs.set(2, doc(2));
    const feed = await feedWith(store);
    for (const seq of [3, 4, 5]) feed.receive(eventFromDoc(doc(seq)));
    const late = subscriber(3);
    late.live = false;
    feed.subs.add(late);
    expect(feed.tryAttach(late, 3)).to.equal(true);
    feed.receive(eventFromDoc(doc(6)));
    expect(late.got.map(([, seq]) => seq)).to.deep.equal([4, 5, 6]);
    const behind = subscriber(0);
    behind.live = false;
    expect(feed.tryAttach(behind, 1)).to.equal(false);
  });
});
