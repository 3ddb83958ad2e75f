// Seq allocation with senders on both instances: consecutive seqs with no failed insert and no hole,
// resends answered from the original without taking a seq (no delivery stall after a resend storm),
// and the store's unique `_id` as the last guard when the Redis counter is behind the store.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import mongoose, { type Connection } from 'mongoose';
import type { SendAckFrame, ServerFrame } from '@chatcluster/message-sdk';
import { call, channelWith, eventually, signup, type TestUser } from '../support/api.js';
import { RawSocket, RecordingClient } from '../support/clients.js';
import { expectExactlyOnceInOrder, sendMany } from '../support/load.js';
import { startStack, type Stack } from '../support/stack.js';

const isAck = (f: ServerFrame): f is SendAckFrame => f.type === 'ack';

/** A counter's value; it must be exported (it is part of the service's metric contract). */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  expect(line, `${name} exported by ${url}`).to.be.a('string');
  return Number(line!.split(' ')[1]);
}

describe('message: seq allocation across instances', function () {
  let stack: Stack;
  let db: Connection;
  let redis: Redis;
  let alice: TestUser;
  let bob: TestUser;
  const clients: RecordingClient[] = [];
  const sockets: RawSocket[] = [];

  before(async () => {
    stack = await startStack({ env: { SEND_BURST: '100000', SEND_RATE_PER_MIN: '1000000' } });
    db = await mongoose.createConnection(`${stack.ferret.url}chat`).asPromise();
    redis = new Redis(stack.redis.url);
    [alice, bob] = (await Promise.all(['alice', 'bob'].map((n) => signup(stack.auth.url, n)))) as [
      TestUser,
      TestUser,
    ];
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    for (const s of sockets.splice(0)) s.close();
  });
  after(async () => {
    redis?.disconnect();
    await db?.close();
    await stack?.stop();
  });

  const url = (i: number) => stack.instances[i]!.url;
  const client = (user: TestUser, i: number) => {
    const c = new RecordingClient([url(i)], user.token);
    clients.push(c);
    return c;
  };
  const holes = (channelId: string) => db.collection('messages').countDocuments({ channelId, hole: true });
  const conflicts = async () =>
    (await metric(url(0), 'chat_message_store_insert_conflicts_total')) +
    (await metric(url(1), 'chat_message_store_insert_conflicts_total'));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('senders on both instances in one channel: consecutive seqs, 0 failed inserts, 0 holes', async () => {
    const channel = await channelWith(stack.auth.url, alice, [bob]);
    const senders = [client(alice, 0), client(bob, 1)];
    const receivers = [client(bob, 0), client(alice, 1)];
    await Promise.all([...senders, ...receivers].map((c) => c.open()));
    await Promise.all(receivers.map((c) => c.subscribed(channel)));
    const conflictsBefore = await conflicts();
    const acks = (
      await Promise.all(
        senders.map((s, i) => sendMany(s, channel, 100, { prefix: `two-${i}`, concurrency: 4 })),
      )
    ).flat();
    expect(acks.map((a) => a.seq).sort((x, y) => x - y)).to.deep.equal(range(1, 200));
    expect(acks.filter((a) => a.duplicate)).to.have.length(0);
    for (const r of receivers) {
      await eventually(
        () => r.received(channel).length,
        (n) => n >= 200,
      );
      expectExactlyOnceInOrder(r, channel, acks);
    }
    expect(await conflicts(), 'failed inserts').to.equal(conflictsBefore);
    expect(await holes(channel), 'hole documents').to.equal(0);
  });

  it('a storm of 100 unacknowledged resends consumes no seq and stalls no delivery', async () => {
    const channel = await channelWith(stack.auth.url, alice, [bob]);
    const receivers = [client(bob, 0), client(bob, 1)];
    await Promise.all(receivers.map((c) => c.open()));
    await Promise.all(receivers.map((c) => c.subscribed(channel)));
    // A client sends after its `hello` (the server holds at most 64 frames that arrive before it).
    const first = await RawSocket.open(url(0), alice.token);
    sockets.push(first);
    await first.next((f) => f.type === 'hello');
    const frames = Array.from({ length: 100 }, (_, i) => ({
      type: 'send',
      channelId: channel,
      clientMessageId: `storm-${i}`,
      body: `storm ${i}`,
    }));
    for (const f of frames) first.send(f);
    const firstAcks = await eventually(
      () => first.frames.filter(isAck).length,
      (n) => n === 100,
    );
    expect(
      firstAcks,
      `acks of the first sends (close ${first.closeCode}, other frames: ${JSON.stringify(first.frames.filter((f) => !isAck(f)).slice(0, 3))})`,
    ).to.equal(100);
    const originals = new Map(first.frames.filter(isAck).map((a) => [a.clientMessageId, a.seq]));
    first.close();
    // The acks were "lost": the client reconnects (to the other instance) and resends all of them at once.
    const again = await RawSocket.open(url(1), alice.token);
    sockets.push(again);
    await again.next((f) => f.type === 'hello');
    for (const f of frames) again.send(f);
    const againAcks = await eventually(
      () => again.frames.filter(isAck).length,
      (n) => n === 100,
    );
    expect(
      againAcks,
      `acks of the resends (other frames: ${JSON.stringify(again.frames.filter((f) => !isAck(f)).slice(0, 3))})`,
    ).to.equal(100);
    for (const ack of again.frames.filter(isAck)) {
      expect(ack.duplicate, ack.clientMessageId).to.equal(true);
      expect(ack.seq).to.equal(originals.get(ack.clientMessageId));
    }
    for (const r of receivers)
      await eventually(
        () => r.received(channel).length,
        (n) => n >= 100,
      );
    // The next message takes the next seq and reaches both instances' subscribers without a wait.
    const sentAt = Date.now();
    const next = await call<{ message: { seq: number } }>(url(0), 'POST', '/api/v1/messages', {
      body: { channelId: channel, clientMessageId: 'after-storm', body: 'after the storm' },
      token: alice.token,
    });
    expect(next.body.message.seq, 'no seq consumed by the resends').to.equal(101);
    for (const r of receivers) {
      await eventually(
        () => r.received(channel).length,
        (n) => n >= 101,
        10_000,
        10,
      );
      expect(Date.now() - sentAt, 'delivered without waiting for a missing seq').to.be.below(1_000);
      expect(r.received(channel).map((e) => e.seq)).to.deep.equal(range(1, 101));
    }
    expect(await holes(channel), 'hole documents').to.equal(0);
  });

  it('a counter behind the store is raised past what is stored, without a hole', async () => {
    const channel = await channelWith(stack.auth.url, alice, []);
    const post = (id: string) =>
      call<{ message: { seq: number } }>(url(0), 'POST', '/api/v1/messages', {
        body: { channelId: channel, clientMessageId: id, body: id },
        token: alice.token,
      });
    for (let i = 0; i < 5; i++) expect((await post(`behind-${i}`)).status).to.equal(201);
    // As if Redis came back from an older snapshot.
    await redis.hset(`chat:seq:${channel}`, 'top', '2');
    const res = await post('behind-after');
    expect(res.status).to.equal(201);
    expect(res.body.message.seq).to.equal(6);
    expect((await post('behind-next')).body.message.seq).to.equal(7);
    expect(await holes(channel)).to.equal(0);
  });
});
