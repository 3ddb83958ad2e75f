// Dependencies failing under load: Redis stopped and restarted mid-stream (messages still stored
// and acknowledged, receivers catch up), MongoDB unreachable (503 with Retry-After, connections
// stay up, history from the Redis cache, readiness stays 200 but degraded and names it).
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { call, channelWith, eventually, signup, type TestUser } from '../support/api.js';
import { RecordingClient } from '../support/clients.js';
import { expectExactlyOnceInOrder, sendMany } from '../support/load.js';
import { startStack, type Stack } from '../support/stack.js';
import type { SendAckFrame } from '@chatcluster/message-sdk';

interface Readiness {
  status: string;
  checks: Record<string, { ok: boolean; error?: string }>;
}

describe('message: degradation when Redis or MongoDB is down', function () {
  let stack: Stack;
  let alice: TestUser;
  let bob: TestUser;
  const clients: RecordingClient[] = [];

  before(async () => {
    // Limits out of the way: the load here is the test's, not a user's.
    stack = await startStack({
      env: { SEND_BURST: '10000', SEND_RATE_PER_MIN: '100000', HTTP_RATE_PER_MIN: '1000000' },
    });
    [alice, bob] = (await Promise.all(['alice', 'bob'].map((n) => signup(stack.auth.url, n)))) as [
      TestUser,
      TestUser,
    ];
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => {
    await stack?.stop();
  });

  const client = (user: TestUser, i: number) => {
    const c = new RecordingClient([stack.instances[i]!.url], user.token);
    clients.push(c);
    return c;
  };

  it('keeps storing and acknowledging while Redis restarts; receivers on the other instance catch up exactly once', async () => {
    const channel = await channelWith(stack.auth.url, alice, [bob]);
    const sender = client(alice, 0);
    const receiver = client(bob, 1);
    await Promise.all([sender.open(), receiver.open()]);
    await Promise.all([sender.subscribed(channel), receiver.subscribed(channel)]);
    const sending = sendMany(sender, channel, 80, { prefix: 'r', gapMs: 25, concurrency: 2 });
    await eventually(
      () => receiver.received(channel).length,
      (n) => n >= 10,
    );
    const restart = stack.redis.restart({ downForMs: 1_500 });
    const acks = await sending;
    await restart;
    expect(acks).to.have.length(80);
    await eventually(
      () => receiver.received(channel).length,
      (n) => n >= 80,
      30_000,
    );
    expectExactlyOnceInOrder(receiver, channel, acks);
    expectExactlyOnceInOrder(sender, channel, acks);
    const ready = await eventually(
      () => call<Readiness>(stack.instances[1]!.url, 'GET', '/health/readiness'),
      (r) => r.status === 200 && r.body.status === 'ok',
    );
    expect(ready.body.status).to.equal('ok');
  });

  it('answers 503 MSG_STORE_UNAVAILABLE with Retry-After while MongoDB is unreachable, serves cached history, keeps sockets, recovers', async () => {
    const channel = await channelWith(stack.auth.url, alice, [bob]);
    const url = stack.instances[0]!.url;
    for (let i = 0; i < 3; i++) {
      const r = await call(url, 'POST', '/api/v1/messages', {
        body: { channelId: channel, clientMessageId: `before-${i}`, body: `before ${i}` },
        token: alice.token,
      });
      expect(r.status).to.equal(201);
    }
    // The cache is filled when the relay publishes (right after the store, or by the sweeper).
    const redis = new Redis(stack.redis.url);
    try {
      await eventually(
        () => redis.xlen(`chat:history:${channel}`),
        (n) => n === 3,
      );
    } finally {
      redis.disconnect();
    }
    const watcher = client(bob, 1);
    await watcher.open();
    await watcher.subscribed(channel);
    await eventually(
      () => watcher.received(channel).length,
      (n) => n === 3,
    );
    const sender = client(alice, 0);
    await sender.open();

    await stack.toxiproxy.disableProxy(stack.mongoProxy);
    let pending: Promise<SendAckFrame> | undefined;
    try {
      const refused = await eventually(
        () =>
          call<{ error: { code: string; retryAfterSeconds?: number } }>(url, 'POST', '/api/v1/messages', {
            body: { channelId: channel, clientMessageId: 'during', body: 'during' },
            token: alice.token,
          }),
        (r) => r.status === 503,
      );
      expect(refused.status).to.equal(503);
      expect(refused.body.error.code).to.equal('MSG_STORE_UNAVAILABLE');
      expect(Number(refused.headers.get('retry-after'))).to.be.greaterThan(0);
      expect(refused.body.error.retryAfterSeconds).to.be.greaterThan(0);

      const history = await call<{ items: { body: string }[]; source: string }>(
        url,
        'GET',
        `/api/v1/messages?channelId=${channel}`,
        { token: bob.token },
      );
      expect(history.status, JSON.stringify(history.body)).to.equal(200);
      expect(history.body.source).to.equal('cache');
      expect(history.body.items.map((m) => m.body)).to.deep.equal(['before 0', 'before 1', 'before 2']);

      // Still in rotation (every instance would fail alike), naming MongoDB as the failing check.
      const readiness = await call<Readiness>(url, 'GET', '/health/readiness');
      expect(readiness.status).to.equal(200);
      expect(readiness.body.status).to.equal('degraded');
      expect(readiness.body.checks['mongodb']!.ok).to.equal(false);
      expect(readiness.body.checks['mongodb']!.error).to.be.a('string').and.not.empty;
      expect(readiness.body.checks['redis']!.ok).to.equal(true);

      // The SDK keeps a send pending through the outage, and the sockets stay open.
      pending = sender.client.send(channel, 'sent during the outage', 'outage-1');
      await new Promise((r) => setTimeout(r, 1_500));
      expect(sender.client.state).to.equal('open');
      expect(watcher.client.state).to.equal('open');
    } finally {
      await stack.toxiproxy.enableProxy(stack.mongoProxy);
    }
    const ack = await pending;
    expect(ack.duplicate).to.equal(false);
    const got = await eventually(
      () => watcher.received(channel),
      (l) => l.length === 4,
      30_000,
    );
    expect(got.map((e) => e.message.body)).to.deep.equal([
      'before 0',
      'before 1',
      'before 2',
      'sent during the outage',
    ]);
    expect(sender.instances).to.have.length(1);
  });

  it('every instance stores again soon after a 20 s MongoDB cut that caught many sends and reads in flight', async () => {
    const channel = await channelWith(stack.auth.url, alice, [bob]);
    let stop = false;
    let sent = 0;
    // Many writes and reads in flight on both instances when the network goes, as under chat load.
    const worker = async (url: string, w: number) => {
      for (let i = 0; !stop; i++) {
        const r = await call(url, 'POST', '/api/v1/messages', {
          body: { channelId: channel, clientMessageId: `cut-${w}-${i}`, body: `cut ${w} ${i}` },
          token: alice.token,
        }).catch(() => undefined);
        if (r?.status === 201) sent++;
        await call(url, 'GET', `/api/v1/messages?channelId=${channel}&limit=5`, { token: bob.token }).catch(
          () => undefined,
        );
      }
    };
    const workers = stack.instances.flatMap((instance, n) =>
      Array.from({ length: 12 }, (_, w) => worker(instance.url, n * 100 + w)),
    );
    try {
      await eventually(
        () => sent,
        (n) => n >= 50,
      );
      await stack.toxiproxy.disableProxy(stack.mongoProxy);
      await new Promise((r) => setTimeout(r, 20_000));
    } finally {
      await stack.toxiproxy.enableProxy(stack.mongoProxy);
    }
    try {
      for (const instance of stack.instances) {
        let attempt = 0;
        const stored = await eventually(
          () =>
            call(instance.url, 'POST', '/api/v1/messages', {
              body: {
                channelId: channel,
                clientMessageId: `after-${instance.name}-${attempt++}`,
                body: 'after',
              },
              token: alice.token,
            }),
          (r) => r.status === 201,
          15_000,
          250,
        );
        expect(stored.status, `${instance.name} stores again: ${JSON.stringify(stored.body)}`).to.equal(201);
        const ready = await eventually(
          () => call<Readiness>(instance.url, 'GET', '/health/readiness'),
          (r) => r.status === 200 && r.body.status === 'ok',
          15_000,
          250,
        );
        expect(ready.body.status, `${instance.name} ready again`).to.equal('ok');
      }
    } finally {
      stop = true;
      await Promise.all(workers);
    }
  });
});
