// Delivery across two instances: cross-instance fan-out, idempotent and concurrent sends, edits and
// deletes to live and resuming clients, membership checks (reactions: reactions.test.ts).
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { call, channelWith, eventually, signup, type TestUser } from '../support/api.js';
import { RawSocket, RecordingClient } from '../support/clients.js';
import { startStack, type Stack } from '../support/stack.js';
import type { ErrorFrame, ServerFrame } from '@chatcluster/message-sdk';

describe('message: delivery across instances', function () {
  let stack: Stack;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  const clients: RecordingClient[] = [];
  const sockets: RawSocket[] = [];

  before(async () => {
    // Generous send limits here: test/integration/limits.test.ts covers the real ones.
    stack = await startStack({ env: { SEND_BURST: '10000', SEND_RATE_PER_MIN: '100000' } });
    [alice, bob, carol] = (await Promise.all(
      ['alice', 'bob', 'carol'].map((n) => signup(stack.auth.url, n)),
    )) as [TestUser, TestUser, TestUser];
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    for (const s of sockets.splice(0)) s.close();
  });
  after(async () => {
    await stack?.stop();
  });

  const [a, b] = [0, 1];
  const url = (i: number) => stack.instances[i]!.url;
  const client = (user: TestUser, i: number) => {
    const c = new RecordingClient([url(i)], user.token);
    clients.push(c);
    return c;
  };

  it('delivers a message sent on one instance to subscribers on both, in seq order', async () => {
    const channel = await channelWith(stack.auth.url, alice, [bob]);
    const sender = client(alice, a);
    const far = client(bob, b);
    const near = client(bob, a);
    await Promise.all([sender.open(), far.open(), near.open()]);
    await Promise.all([far.subscribed(channel), near.subscribed(channel)]);
    const acks = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sender.client.send(channel, `hello ${i}`)),
    );
    expect(acks.map((x) => x.duplicate)).to.deep.equal(Array(20).fill(false));
    for (const c of [far, near]) {
      const got = await eventually(
        () => c.received(channel),
        (l) => l.length >= 20,
      );
      expect(got.map((e) => e.seq)).to.deep.equal([...acks.map((x) => x.seq)].sort((x, y) => x - y));
      expect(new Set(got.map((e) => e.message.body)).size).to.equal(20);
    }
  });

  it('stores a repeated send once: same body answers the original, another body is 422', async () => {
    const channel = await channelWith(stack.auth.url, alice, []);
    const clientMessageId = `c-${randomUUID()}`;
    const first = await call<{ message: { seq: number; id: string } }>(url(a), 'POST', '/api/v1/messages', {
      body: { channelId: channel, clientMessageId, body: 'once' },
      token: alice.token,
    });
    expect(first.status).to.equal(201);
    const again = await call<{ message: { seq: number; id: string }; duplicate: boolean }>(
      url(b),
      'POST',
      '/api/v1/messages',
      {
        body: { channelId: channel, clientMessageId, body: 'once' },
        token: alice.token,
      },
    );
    expect(again.status).to.equal(200);
    expect(again.body.duplicate).to.equal(true);
    expect(again.body.message.id).to.equal(first.body.message.id);
    const other = await call<{ error: { code: string } }>(url(a), 'POST', '/api/v1/messages', {
      body: { channelId: channel, clientMessageId, body: 'different' },
      token: alice.token,
    });
    expect(other.status).to.equal(422);
    expect(other.body.error.code).to.equal('MSG_IDEMPOTENCY_MISMATCH');
    // A repeat that arrives after an edit is still recognised by the body as sent.
    const path = `/api/v1/messages/${channel}/${first.body.message.seq}`;
    expect(
      (await call(url(a), 'PATCH', path, { body: { body: 'edited' }, token: alice.token })).status,
    ).to.equal(200);
    const late = await call<{ message: { id: string; body: string } }>(url(b), 'POST', '/api/v1/messages', {
      body: { channelId: channel, clientMessageId, body: 'once' },
      token: alice.token,
    });
    expect(late.status).to.equal(200);
    expect(late.body.message).to.include({ id: first.body.message.id, body: 'edited' });
  });

  it('stores exactly one message for concurrent duplicates sent to both instances', async () => {
    const channel = await channelWith(stack.auth.url, alice, []);
    const clientMessageId = `c-${randomUUID()}`;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call<{ message: { id: string; seq: number } }>(url(i % 2), 'POST', '/api/v1/messages', {
          body: { channelId: channel, clientMessageId, body: 'race' },
          token: alice.token,
        }),
      ),
    );
    expect(answers.map((r) => r.status).filter((s) => s === 201)).to.have.length(1);
    expect(answers.every((r) => r.status === 200 || r.status === 201)).to.equal(true);
    expect(new Set(answers.map((r) => r.body.message.id)).size).to.equal(1);
    const history = await call<{ items: unknown[] }>(url(a), 'GET', `/api/v1/messages?channelId=${channel}`, {
      token: alice.token,
    });
    expect(history.body.items).to.have.length(1);
  });

  it('propagates edits and deletes to live clients and to clients resuming later', async () => {
    const channel = await channelWith(stack.auth.url, alice, [bob, carol]);
    const live = client(bob, b);
    await live.open();
    await live.subscribed(channel);
    const sender = client(alice, a);
    await sender.open();
    const first = await sender.client.send(channel, 'first draft');
    const second = await sender.client.send(channel, 'to be deleted');
    // Carol reads both, then goes away.
    const away = client(carol, a);
    await away.open();
    await away.subscribed(channel);
    await eventually(
      () => away.received(channel),
      (l) => l.length === 2,
    );
    const lastSeq = away.client.lastSeq(channel);
    const since = away.client.since(channel)!;
    away.close();

    const edit = await call(url(a), 'PATCH', `/api/v1/messages/${channel}/${first.seq}`, {
      body: { body: 'final text' },
      token: alice.token,
    });
    expect(edit.status).to.equal(200);
    const notSender = await call<{ error: { code: string } }>(
      url(a),
      'PATCH',
      `/api/v1/messages/${channel}/${first.seq}`,
      {
        body: { body: 'hijack' },
        token: bob.token,
      },
    );
    expect(notSender.status).to.equal(403);
    expect(notSender.body.error.code).to.equal('MSG_NOT_SENDER');
    const del = await call(url(b), 'DELETE', `/api/v1/messages/${channel}/${second.seq}`, {
      token: alice.token,
    });
    expect(del.status).to.equal(200);

    const updates = await eventually(
      () => live.updates,
      (u) => u.length >= 2,
    );
    const edited = updates.find((u) => u.seq === first.seq)!;
    const deleted = updates.find((u) => u.seq === second.seq)!;
    expect(edited.message.body).to.equal('final text');
    expect(edited.message.editedAt).to.be.a('string');
    expect(deleted.message.deletedAt).to.be.a('string');
    expect(deleted.message.body).to.equal('');

    // Carol comes back on the other instance with what she had: she gets the changes, not the messages again.
    const back = client(carol, b);
    await back.open();
    back.client.subscribe(channel, { lastSeq, since });
    const resumedUpdates = await eventually(
      () => back.updates,
      (u) => u.length >= 2,
    );
    expect(back.received(channel)).to.have.length(0);
    expect(resumedUpdates.find((u) => u.seq === first.seq)!.message.body).to.equal('final text');
    expect(resumedUpdates.find((u) => u.seq === second.seq)!.message.deletedAt).to.be.a('string');

    // History shows the tombstone in place.
    const history = await call<{ items: { seq: number; body: string; deletedAt: string | null }[] }>(
      url(a),
      'GET',
      `/api/v1/messages?channelId=${channel}&after=0`,
      { token: bob.token },
    );
    expect(history.body.items.map((m) => [m.seq, m.body, m.deletedAt !== null])).to.deep.equal([
      [first.seq, 'final text', false],
      [second.seq, '', true],
    ]);
  });

  it('pages history by seq before and after', async () => {
    const channel = await channelWith(stack.auth.url, alice, []);
    for (let i = 1; i <= 7; i++) {
      await call(url(a), 'POST', '/api/v1/messages', {
        body: { channelId: channel, clientMessageId: `h${i}`, body: `m${i}` },
        token: alice.token,
      });
    }
    type Page = { items: { body: string }[]; prevBefore: number | null; nextAfter: number | null };
    const get = (q: string) =>
      call<Page>(url(b), 'GET', `/api/v1/messages?channelId=${channel}&${q}`, { token: alice.token });
    const newest = await get('limit=3');
    expect(newest.body.items.map((m) => m.body)).to.deep.equal(['m5', 'm6', 'm7']);
    const older = await get(`limit=3&before=${newest.body.prevBefore}`);
    expect(older.body.items.map((m) => m.body)).to.deep.equal(['m2', 'm3', 'm4']);
    const oldest = await get(`limit=3&before=${older.body.prevBefore}`);
    expect(oldest.body.items.map((m) => m.body)).to.deep.equal(['m1']);
    expect(oldest.body.prevBefore).to.equal(null);
    const forward = await get('limit=4&after=2');
    expect(forward.body.items.map((m) => m.body)).to.deep.equal(['m3', 'm4', 'm5', 'm6']);
  });

  it('refuses subscribe and send to non-members and unknown channels, and upgrades without a valid token', async () => {
    const privateChannel = await channelWith(stack.auth.url, alice, [], 'private');
    const publicChannel = await channelWith(stack.auth.url, alice, []);
    const raw = await RawSocket.open(url(a), carol.token);
    sockets.push(raw);
    const isError = (f: ServerFrame): f is ErrorFrame => f.type === 'error';
    raw.send({ type: 'subscribe', channelId: publicChannel });
    expect((await raw.next(isError)).code).to.equal('MSG_NOT_A_MEMBER');
    raw.send({ type: 'subscribe', channelId: privateChannel });
    expect(await raw.next((f) => isError(f) && f.channelId === privateChannel)).to.include({
      code: 'MSG_CHANNEL_NOT_FOUND',
    });
    raw.send({ type: 'subscribe', channelId: randomUUID() });
    await raw.next((f) => isError(f) && f.code === 'MSG_CHANNEL_NOT_FOUND' && f.channelId !== privateChannel);
    raw.send({ type: 'send', channelId: publicChannel, clientMessageId: 'x1', body: 'hi' });
    expect(await raw.next((f) => isError(f) && f.ref === 'x1')).to.include({
      code: 'MSG_NOT_A_MEMBER',
    });
    const http = await call<{ error: { code: string } }>(
      url(b),
      'GET',
      `/api/v1/messages?channelId=${publicChannel}`,
      { token: carol.token },
    );
    expect(http.status).to.equal(403);

    for (const token of ['not-a-jwt', `${alice.token.slice(0, -4)}AAAA`]) {
      const refused = await RawSocket.open(url(a), token, 'header').then(
        () => 0,
        (err: { status?: number }) => err.status ?? -1,
      );
      expect(refused).to.equal(401);
      const closed = await RawSocket.open(url(a), token, 'frame');
      expect(await closed.closed).to.equal(4003);
    }
    expect((await call(url(a), 'GET', `/api/v1/messages?channelId=${publicChannel}`)).status).to.equal(401);
  });

  it('hides a deleted channel and ends its subscriptions', async () => {
    const channel = await channelWith(stack.auth.url, alice, [bob]);
    const c = client(bob, b);
    await c.open();
    await c.subscribed(channel);
    const ended = new Promise<string>((resolve) =>
      c.client.on('unsubscribed', (_id, reason) => resolve(reason)),
    );
    expect(
      (await call(stack.auth.url, 'DELETE', `/api/v1/channels/${channel}`, { token: alice.token })).status,
    ).to.equal(204);
    expect(await ended).to.equal('channel.deleted');
    const history = await call<{ error: { code: string } }>(
      url(a),
      'GET',
      `/api/v1/messages?channelId=${channel}`,
      { token: alice.token },
    );
    expect(history.status).to.equal(404);
    expect(history.body.error.code).to.equal('MSG_CHANNEL_NOT_FOUND');
  });

  it('writes one chat:notify entry per created message with the contract fields', async () => {
    const channel = await channelWith(stack.auth.url, alice, [bob]);
    const sent = await call<{ message: { id: string; seq: number; createdAt: string } }>(
      url(a),
      'POST',
      '/api/v1/messages',
      {
        body: { channelId: channel, clientMessageId: 'notify-1', body: 'x'.repeat(200) },
        token: alice.token,
      },
    );
    const redis = new Redis(stack.redis.url);
    try {
      const entries = await eventually(
        async () =>
          (await redis.xrange('chat:notify', '-', '+')).filter(([, f]) => f.includes(sent.body.message.id)),
        (e) => e.length >= 1,
      );
      expect(entries).to.have.length(1);
      const fields = Object.fromEntries(
        entries[0]![1].flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1]!]] : [])),
      ) as Record<string, string>;
      expect(fields).to.deep.equal({
        type: 'message.created',
        messageId: sent.body.message.id,
        channelId: channel,
        seq: String(sent.body.message.seq),
        senderId: alice.id,
        preview: 'x'.repeat(140),
        createdAt: sent.body.message.createdAt,
      });
    } finally {
      redis.disconnect();
    }
  });

  it('registers presence (user -> instance) while connected and removes it after the last connection', async () => {
    const redis = new Redis(stack.redis.url);
    try {
      const c = client(carol, b);
      await c.open();
      expect(
        await eventually(
          () => redis.get(`chat:presence:${carol.id}`),
          (v) => v !== null,
        ),
      ).to.equal('message-2');
      expect(await redis.ttl(`chat:presence:${carol.id}`)).to.be.within(1, 90);
      c.close();
      expect(
        await eventually(
          () => redis.get(`chat:presence:${carol.id}`),
          (v) => v === null,
        ),
      ).to.equal(null);
    } finally {
      redis.disconnect();
    }
  });

  it('exports the metrics the SLOs read, under their contract names', async () => {
    // One delivery on instance a, acknowledged by the client, then the connection closes.
    const channel = await channelWith(stack.auth.url, alice, []);
    const c = client(alice, a);
    await c.open();
    await c.subscribed(channel);
    await c.client.send(channel, 'measured');
    await eventually(
      () => c.received(channel).length,
      (n) => n === 1,
    );
    await new Promise((r) => setTimeout(r, 500)); // the test clients acknowledge deliveries every 200 ms
    c.close();
    expect(
      (await call(url(a), 'GET', `/api/v1/messages?channelId=${channel}`, { token: alice.token })).status,
    ).to.equal(200);
    const text = await eventually(
      async () => (await fetch(`${url(a)}/metrics`)).text(),
      // Every reason is exported from start: wait for this client's close to be counted.
      (t) => /^chat_message_ws_connections_closed_total\{reason="client"\} [1-9]/m.test(t),
    );
    for (const name of [
      'chat_message_delivery_latency_seconds_bucket{le="0.2"}',
      'chat_message_delivery_latency_seconds_bucket{le="0.3"}',
      'chat_message_delivery_latency_seconds_bucket{le="0.5"}',
      'chat_message_ws_connections ',
      'chat_message_ws_connections_opened_total ',
      'chat_message_ws_connections_closed_total{reason=',
      'chat_message_deliveries_total ',
      'chat_message_client_acked_deliveries_total ',
      'chat_message_outbox_pending ',
      'chat_message_outbox_oldest_pending_seconds ',
      'chat_message_http_requests_total{',
      'chat_message_circuit_breaker_state{breaker="mongodb"}',
      'chat_message_circuit_breaker_state{breaker="redis"}',
    ]) {
      expect(text, name).to.include(name);
    }
    // Deliveries happened in the tests above, and clients acknowledged them.
    const value = (metric: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${metric} `))!
          .split(' ')[1],
      );
    expect(value('chat_message_deliveries_total')).to.be.greaterThan(0);
    expect(value('chat_message_client_acked_deliveries_total')).to.be.greaterThan(0);
  });

  it('purges tombstones older than PURGE_AFTER_DAYS', async () => {
    const channel = await channelWith(stack.auth.url, alice, []);
    const sent = await call<{ message: { seq: number } }>(url(a), 'POST', '/api/v1/messages', {
      body: { channelId: channel, clientMessageId: 'purge-me', body: 'soon gone' },
      token: alice.token,
    });
    const kept = await call<{ message: { seq: number } }>(url(a), 'POST', '/api/v1/messages', {
      body: { channelId: channel, clientMessageId: 'keep-me', body: 'stays' },
      token: alice.token,
    });
    await call(url(a), 'DELETE', `/api/v1/messages/${channel}/${sent.body.message.seq}`, {
      token: alice.token,
    });
    // An instance whose purge keeps no tombstone at all, running every 300 ms.
    const purger = await stack.startInstance('purger', { PURGE_AFTER_DAYS: '0', PURGE_INTERVAL_MS: '300' });
    try {
      const history = await eventually(
        () =>
          call<{ items: { seq: number }[] }>(url(a), 'GET', `/api/v1/messages?channelId=${channel}`, {
            token: alice.token,
          }),
        (r) => r.body.items.length === 1,
      );
      expect(history.body.items.map((m) => m.seq)).to.deep.equal([kept.body.message.seq]);
    } finally {
      purger.kill('SIGTERM');
      await purger.exited;
    }
  });
});
