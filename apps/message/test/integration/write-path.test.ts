// The write path: one document and four index entries per message, at most three Redis commands to
// publish it, the message log as the outbox (a message stored by an instance that died before
// publishing reaches subscribers once), and a retry storm across an instance kill that does not
// wedge the store's breaker.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import mongoose, { type Connection } from 'mongoose';
import type { ErrorFrame, SendAckFrame, ServerFrame } from '@chatcluster/message-sdk';
import { newMessageDoc } from '../../src/store/message-store.js';
import { call, channelWith, eventually, signup, type TestUser } from '../support/api.js';
import { RawSocket, RecordingClient } from '../support/clients.js';
import { expectExactlyOnceInOrder, sendMany } from '../support/load.js';
import type { ServiceProcess } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';

const isAck = (f: ServerFrame): f is SendAckFrame => f.type === 'ack';
const isError = (f: ServerFrame): f is ErrorFrame => f.type === 'error';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('message: the write path', function () {
  let stack: Stack;
  let db: Connection;
  let redis: Redis;
  let users: TestUser[];
  const clients: RecordingClient[] = [];
  const sockets: RawSocket[] = [];

  before(async () => {
    stack = await startStack({ env: { SEND_BURST: '100000', SEND_RATE_PER_MIN: '1000000' } });
    db = await mongoose.createConnection(`${stack.ferret.url}chat`).asPromise();
    redis = new Redis(stack.redis.url);
    users = await Promise.all(['u1', 'u2', 'u3', 'u4'].map((n) => signup(stack.auth.url, n)));
    running.push(...stack.instances);
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

  /** The instances started for this suite that still run. */
  const running: ServiceProcess[] = [];
  const live = () => running.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  const recording = (user: TestUser, urls: string[]) => {
    const c = new RecordingClient(urls, user.token);
    clients.push(c);
    return c;
  };
  const post = (url: string, user: TestUser, channelId: string, id: string) =>
    call<{ message: { seq: number } }>(url, 'POST', '/api/v1/messages', {
      body: { channelId, clientMessageId: id, body: id },
      token: user.token,
    });

  it('stores a message as one document with four index entries and publishes it with at most 3 Redis commands', async () => {
    const [u1] = users as [TestUser];
    const channel = await channelWith(stack.auth.url, u1, []);
    const url = stack.instances[0]!.url;
    expect((await post(url, u1, channel, 'warm-up')).status).to.equal(201);

    const monitor = await redis.monitor();
    const seen: { source: string; args: string[] }[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ source, args }));
    try {
      expect((await post(url, u1, channel, 'counted')).status).to.equal(201);
      await sleep(500);
    } finally {
      monitor.disconnect();
    }
    const publishKeys = [
      `chat:events:${channel}`,
      `chat:history:${channel}`,
      `chat:recent:${channel}`,
      'chat:notify',
    ];
    const publishing = seen.filter((c) => publishKeys.includes(c.args[1] ?? ''));
    expect(publishing.map((c) => c.args[0]!.toLowerCase())).to.include('publish');
    const sources = new Set(publishing.map((c) => c.source));
    const transactions = seen.filter(
      (c) => sources.has(c.source) && ['multi', 'exec'].includes(c.args[0]!.toLowerCase()),
    );
    const commands = [...publishing, ...transactions].map((c) => c.args[0]!.toLowerCase());
    expect(commands, `publish path: ${commands.join(' ')}`).to.have.length.at.most(3);

    // _id, the idempotency key, (channel, seq) for ranged reads, (channel, updatedAt) for edits.
    const indexes = await db.collection('messages').indexes();
    expect(indexes.map((i) => i.name).sort(), 'index entries per message').to.deep.equal([
      '_id_',
      'channel_client_message_id',
      'channel_seq',
      'channel_updated',
    ]);
    expect(await db.collection('messages').countDocuments({ channelId: channel })).to.equal(2);
    expect(await db.collection('message_outbox').countDocuments({})).to.equal(0);
  });

  it('a message stored by an instance that died before publishing reaches every subscriber once', async () => {
    const [u1, u2] = users as [TestUser, TestUser];
    const channel = await channelWith(stack.auth.url, u1, [u2]);
    const urls = stack.instances.map((p) => p.url);
    const readers = [recording(u2, [urls[0]!]), recording(u2, [urls[1]!])];
    await Promise.all(readers.map((r) => r.open()));
    await Promise.all(readers.map((r) => r.subscribed(channel)));
    const acks: SendAckFrame[] = [];
    for (let i = 1; i <= 3; i++) {
      const res = await post(urls[0]!, u1, channel, `before-${i}`);
      acks.push({ clientMessageId: `before-${i}`, seq: res.body.message.seq } as SendAckFrame);
    }
    // What a sender leaves when it dies between the store's answer and the publish: its seq taken
    // from the counter and its document stored, nothing on Redis.
    const seq = await redis.hincrby(`chat:seq:${channel}`, 'top', 1);
    await redis.zadd('chat:seq:active', Date.now(), channel);
    const doc = newMessageDoc(
      { channelId: channel, senderId: u1.id, clientMessageId: 'orphan', body: 'orphan' },
      seq,
      new Date(),
    );
    await db.collection('messages').insertOne(doc as never);
    acks.push({ clientMessageId: 'orphan', seq } as SendAckFrame);
    for (const r of readers) {
      await eventually(
        () => r.received(channel).length,
        (n) => n >= 4,
        15_000,
      );
    }
    // A later pass of the relay (or a publication by another path) must not deliver it again.
    await sleep(5_000);
    for (const r of readers) expectExactlyOnceInOrder(r, channel, acks);
  });

  it('SIGKILL during steady chat: every acknowledged message arrives, and none twice', async () => {
    const [u1, u2, u3, u4] = users as [TestUser, TestUser, TestUser, TestUser];
    // Two channels with members on both instances, and one whose members are all on the victim (the
    // survivor has no feed for it until they move there).
    const shared = await Promise.all([0, 1].map(() => channelWith(stack.auth.url, u1, [u2, u3, u4])));
    const onVictim = await channelWith(stack.auth.url, u1, [u3]);
    const [one, two] = live().map((p) => p.url) as [string, string];
    const all = [
      recording(u1, [one, two]),
      recording(u2, [two, one]),
      recording(u3, [one, two]),
      recording(u4, [two, one]),
    ];
    const members = new Map([
      ...shared.map((c) => [c, all] as const),
      [onVictim, [all[0]!, all[2]!]] as const,
    ]);
    await Promise.all(all.map((c) => c.open()));
    for (const [channel, clients] of members) await Promise.all(clients.map((c) => c.subscribed(channel)));
    const sending = [...members].map(async ([channel, clients], k) => ({
      channel,
      clients,
      acks: (
        await Promise.all(
          clients.map((s, i) =>
            sendMany(s, channel, 40, { prefix: `k${k}-${i}`, gapMs: 10, concurrency: 2 }),
          ),
        )
      ).flat(),
    }));
    await eventually(
      () => all[3]!.received(shared[0]!).length,
      (n) => n >= 40,
    );
    const victim = live()[0]!;
    victim.kill('SIGKILL');
    expect(await victim.exited).to.equal('SIGKILL');
    const sent = await Promise.all(sending);
    for (const { channel, clients, acks } of sent) {
      expect(acks).to.have.length(40 * clients.length);
      for (const c of clients) {
        await eventually(
          () => c.received(channel).length,
          (n) => n >= acks.length,
          30_000,
        );
      }
    }
    // Republications after the kill (relay passes, resends) would arrive seconds later.
    await sleep(8_000);
    for (const { channel, clients, acks } of sent)
      for (const c of clients) expectExactlyOnceInOrder(c, channel, acks);
  });

  it('a retry storm (every in-flight send resent every second) across an instance kill: acks again within 10 s of the store being healthy', async () => {
    if (live().length < 2) running.push(await stack.startInstance(`message-${running.length + 1}`));
    const [victim, survivor] = live() as [ServiceProcess, ServiceProcess];
    const [u1, u2, u3, u4] = users as [TestUser, TestUser, TestUser, TestUser];
    const channel = await channelWith(stack.auth.url, u1, [u2, u3, u4]);

    /** A client that resends everything unacknowledged every second, reconnecting to the survivor. */
    const stormer = async (user: TestUser, name: string) => {
      const pending = new Map<string, object>();
      const acked = new Map<string, number>();
      const refusedAt: number[] = [];
      let socket = await RawSocket.open(victim.url, user.token);
      sockets.push(socket);
      let read = 0;
      const drain = () => {
        for (; read < socket.frames.length; read++) {
          const f = socket.frames[read]!;
          if (isAck(f)) {
            pending.delete(f.clientMessageId);
            acked.set(f.clientMessageId, f.seq);
          } else if (isError(f)) refusedAt.push(Date.now());
        }
      };
      let n = 0;
      let stop = false;
      const loop = (async () => {
        while (!stop || pending.size > 0) {
          drain();
          if (socket.closeCode !== undefined) {
            socket = await RawSocket.open(survivor.url, user.token).catch(() => socket);
            sockets.push(socket);
            read = 0;
          }
          if (!stop) {
            for (let i = 0; i < 5; i++) {
              const id = `${name}-${n++}`;
              pending.set(id, { type: 'send', channelId: channel, clientMessageId: id, body: id });
            }
          }
          if (socket.closeCode === undefined) for (const frame of pending.values()) socket.send(frame);
          await sleep(1_000);
        }
      })();
      return {
        pending,
        acked,
        refusedAt,
        stop: async () => {
          stop = true;
          await Promise.race([loop, sleep(30_000)]);
        },
      };
    };
    const storm = await Promise.all(users.map((u, i) => stormer(u, `storm${i}`)));
    await sleep(2_000);
    // The store turns slow (every answer 1.5 s late): sends pile up, every client resends them every
    // second, the breaker opens; an instance dies in the middle of it; then the store recovers.
    const toxic = await stack.toxiproxy.addToxic(stack.mongoProxy, {
      type: 'latency',
      attributes: { latency: 1_500, jitter: 0 },
    });
    await sleep(3_000);
    victim.kill('SIGKILL');
    await victim.exited;
    await sleep(3_000);
    await stack.toxiproxy.removeToxic(stack.mongoProxy, toxic.name);
    const healthyAt = Date.now();
    await sleep(2_000);
    await Promise.all(storm.map((s) => s.stop()));
    const doneIn = Date.now() - healthyAt;
    for (const s of storm) expect([...s.pending.keys()], 'sends never acknowledged').to.deep.equal([]);
    expect(doneIn, 'every send acknowledged within 10 s of the store being healthy').to.be.below(10_000);
    const lastRefusal = Math.max(0, ...storm.flatMap((s) => s.refusedAt));
    expect(lastRefusal - healthyAt, 'no refusal 10 s after the store is healthy').to.be.below(10_000);
    // Each clientMessageId holds one seq, and the channel's seqs have no holes.
    const seqs = storm.flatMap((s) => [...s.acked.values()]).sort((a, b) => a - b);
    expect(new Set(seqs).size).to.equal(seqs.length);
    expect(await db.collection('messages').countDocuments({ channelId: channel, hole: true })).to.equal(0);
  });
});
