// The send queue in front of the store: senders are answered within the deadline however long a
// batch takes, refused at once while the store's breaker is open, and answered when it opens.
import { expect } from 'chai';
import { createBreaker, createMetrics } from '@chatcluster/kit';
import { messageMetrics } from '../../src/metrics.js';
import type { OutboxRelay } from '../../src/outbox/relay.js';
import { SendService } from '../../src/send-service.js';
import type { CreateResult, MessageStore, NewMessage } from '../../src/store/message-store.js';
import type { MessageDoc } from '../../src/store/models.js';

/** Sends of one turn are stored together, from the next: this lets the batch start. */
const nextTurn = () => new Promise((r) => setImmediate(r));
const item = (n: number): NewMessage => ({
  channelId: 'c',
  senderId: 'u',
  clientMessageId: `m${n}`,
  body: `body ${n}`,
});
const stored = (i: NewMessage): CreateResult => ({
  ok: true,
  duplicate: false,
  doc: { _id: i.clientMessageId } as MessageDoc,
});

describe('message: send queue', () => {
  let releases: (() => void)[];
  const release = () => releases.splice(0).forEach((r) => r());
  let published: string[];
  const relay = { changed: (doc: MessageDoc) => published.push(doc._id) } as unknown as OutboxRelay;
  const metrics = () => messageMetrics(createMetrics('chat_sendtest'));
  /** A store whose batches wait for `release()`. */
  const slowStore = {
    createMany: (items: readonly NewMessage[]) =>
      new Promise<CreateResult[]>((resolve) => releases.push(() => resolve(items.map(stored)))),
  } as unknown as MessageStore;

  beforeEach(() => {
    published = [];
    releases = [];
  });

  it('answers 503 when a batch outlives the deadline, and still publishes what it stores later', async () => {
    const sends = new SendService(slowStore, relay, metrics(), undefined, 50);
    const started = Date.now();
    const results = await Promise.all([sends.send(item(1)), sends.send(item(2))]);
    expect(Date.now() - started).to.be.below(1_000);
    for (const r of results) {
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.error).to.include({ code: 'MSG_STORE_UNAVAILABLE', status: 503 });
    }
    expect(published).to.deep.equal([]);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(published.sort()).to.deep.equal(['m1', 'm2']);
  });

  it('stores and publishes within the deadline as usual', async () => {
    const fast = {
      createMany: (items: readonly NewMessage[]) => Promise.resolve(items.map(stored)),
    } as unknown as MessageStore;
    const sends = new SendService(fast, relay, metrics(), undefined, 1_000);
    const result = await sends.send(item(3));
    expect(result.ok).to.equal(true);
    expect(published).to.deep.equal(['m3']);
  });

  it('answers the batch in flight and the queued sends when the breaker opens, and refuses while open', async () => {
    const breaker = createBreaker('mongodb', (fn: () => Promise<unknown>) => fn(), { resetTimeout: 60_000 });
    try {
      const sends = new SendService(slowStore, relay, metrics(), breaker, 60_000);
      const inFlight = sends.send(item(4));
      await nextTurn();
      const queued = sends.send(item(5));
      breaker.circuit.open();
      for (const refused of await Promise.all([inFlight, queued])) {
        expect(refused.ok).to.equal(false);
        if (!refused.ok) expect(refused.error).to.include({ code: 'MSG_STORE_UNAVAILABLE', status: 503 });
      }
      const immediate = await sends.send(item(6));
      expect(immediate.ok).to.equal(false);
      if (!immediate.ok) expect(immediate.error).to.include({ code: 'MSG_STORE_UNAVAILABLE' });
      expect(published).to.deep.equal([]);
      release();
      await new Promise((r) => setTimeout(r, 10));
      expect(published, 'what the batch in flight stored later is still published').to.deep.equal(['m4']);
    } finally {
      breaker.shutdown();
    }
  });

  it('refuses at once while half-open (the store guard pings for the trial), and stores once closed', async () => {
    const breaker = createBreaker('mongodb', (fn: () => Promise<unknown>) => fn(), { resetTimeout: 20 });
    try {
      const sends = new SendService(slowStore, relay, metrics(), breaker, 60_000);
      breaker.circuit.open();
      await new Promise((r) => breaker.circuit.once('halfOpen', r));
      let rejects = 0;
      breaker.circuit.on('reject', () => rejects++);
      const refused = await sends.send(item(7));
      expect(refused.ok, 'refused while half-open').to.equal(false);
      expect(rejects, 'counted as a rejection of the breaker').to.equal(1);
      if (!refused.ok) expect(refused.error).to.include({ code: 'MSG_STORE_UNAVAILABLE' });
      await breaker.fire(() => Promise.resolve('pong'));
      expect(breaker.state).to.equal('closed');
      const stored = sends.send(item(8));
      await nextTurn();
      release();
      expect((await stored).ok, 'stored once closed').to.equal(true);
    } finally {
      breaker.shutdown();
    }
  });
});
