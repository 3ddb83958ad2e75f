// Epochs: after the message store is restored from a backup (seqs restart lower) and Redis lost the
// channel's counter, a client resuming with a position of the old epoch is told `recovered: false`
// and then receives every new message, instead of dropping them as "already seen".
import { expect } from 'chai';
import { Redis } from 'ioredis';
import mongoose, { type Connection } from 'mongoose';
import { call, channelWith, eventually, signup, type TestUser } from '../support/api.js';
import { RecordingClient } from '../support/clients.js';
import { startStack, type Stack } from '../support/stack.js';

describe('message: channel epochs', function () {
  let stack: Stack;
  let db: Connection;
  let redis: Redis;
  let alice: TestUser;
  let bob: TestUser;
  const clients: RecordingClient[] = [];

  before(async () => {
    stack = await startStack({ env: { SEND_BURST: '100000', SEND_RATE_PER_MIN: '1000000' } });
    db = await mongoose.createConnection(`${stack.ferret.url}chat`).asPromise();
    redis = new Redis(stack.redis.url);
    [alice, bob] = (await Promise.all(['alice', 'bob'].map((n) => signup(stack.auth.url, n)))) as [
      TestUser,
      TestUser,
    ];
  });
  after(async () => {
    for (const c of clients.splice(0)) c.close();
    redis?.disconnect();
    await db?.close();
    await stack?.stop();
  });

  const post = (instance: number, channelId: string, id: string) =>
    call<{ message: { seq: number } }>(stack.instances[instance]!.url, 'POST', '/api/v1/messages', {
      body: { channelId, clientMessageId: id, body: id },
      token: alice.token,
    });

  it('a restore that lowers seqs: the client sees recovered: false, then every new message', async () => {
    const channel = await channelWith(stack.auth.url, alice, [bob]);
    const [first, second] = stack.instances as [(typeof stack.instances)[0], (typeof stack.instances)[0]];
    const reader = new RecordingClient([first.url, second.url], bob.token);
    clients.push(reader);
    const positions: { recovered: boolean; epoch: string | null }[] = [];
    reader.client.on('subscribed', (_id, _seq, position) => positions.push(position));
    await reader.open();
    await reader.subscribed(channel);
    for (let i = 1; i <= 10; i++) expect((await post(0, channel, `before-${i}`)).status).to.equal(201);
    await eventually(
      () => reader.received(channel).length,
      (n) => n === 10,
    );
    const oldEpoch = reader.client.epoch(channel);
    expect(oldEpoch).to.be.a('string');
    expect(positions).to.deep.equal([{ recovered: true, epoch: oldEpoch }]);

    // The reader's instance goes away; meanwhile the store is restored from a backup taken at seq 5
    // and Redis lost the channel's counter (restored with the platform, or flushed).
    first.kill('SIGKILL');
    await first.exited;
    await db.collection('messages').deleteMany({ channelId: channel, seq: { $gt: 5 } });
    await db.collection('channel_counters').deleteOne({ _id: channel as never });
    await redis.del(`chat:seq:${channel}`);
    for (let i = 1; i <= 10; i++) await redis.del(`chat:sent:${channel}:before-${i}`);

    // The reader reconnects to the other instance and resumes from seq 10 of the old epoch.
    await eventually(
      () => positions.length,
      (n) => n === 2,
    );
    expect(positions[1]!.recovered).to.equal(false);
    expect(positions[1]!.epoch).to.be.a('string').and.not.equal(oldEpoch);
    expect(reader.client.lastSeq(channel)).to.equal(5);

    const acks: number[] = [];
    for (let i = 1; i <= 3; i++) acks.push((await post(1, channel, `after-${i}`)).body.message.seq);
    expect(acks).to.deep.equal([6, 7, 8]);
    const got = await eventually(
      () => reader.received(channel).slice(10),
      (l) => l.length >= 3,
    );
    expect(got.map((e) => e.message.body)).to.deep.equal(['after-1', 'after-2', 'after-3']);
    expect(got.map((e) => e.seq)).to.deep.equal([6, 7, 8]);
  });
});
