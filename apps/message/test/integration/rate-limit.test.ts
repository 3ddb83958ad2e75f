// Limits that hold across replicas: two message instances share one Redis token bucket per user,
// and with Redis down each instance decides alone (chat goes on, the metrics say so).
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { call, channelWith, signup, type TestUser } from '../support/api.js';
import { startStack, type Stack } from '../support/stack.js';

describe('message: rate limits shared by every instance', function () {
  let stack: Stack;
  let alice: TestUser;
  let bob: TestUser;
  let channel: string;

  before(async () => {
    // Bursts of 20 as the reliability review set, refilled slowly enough that a slow test machine
    // cannot earn a token back during the test.
    stack = await startStack({ env: { SEND_BURST: '20', SEND_BURST_WINDOW_MS: '600000' } });
    [alice, bob] = (await Promise.all(['alice', 'bob'].map((n) => signup(stack.auth.url, n)))) as [
      TestUser,
      TestUser,
    ];
    channel = await channelWith(stack.auth.url, alice, [bob]);
  });
  after(async () => {
    await stack?.stop();
  });

  const send = (user: TestUser, instance: number) =>
    call<{ error?: { code: string }; retryAfterSeconds?: number }>(
      stack.instances[instance]!.url,
      'POST',
      '/api/v1/messages',
      { token: user.token, body: { channelId: channel, clientMessageId: randomUUID(), body: 'hi' } },
    );
  const metrics = async (instance: number) =>
    (await call<string>(stack.instances[instance]!.url, 'GET', '/metrics')).body;

  it('one burst of 20 for a user sending through both instances', async () => {
    const statuses: number[] = [];
    // Alternating instances: per-instance buckets would allow 20 on each, 30 in all.
    for (let i = 0; i < 30; i++) statuses.push((await send(alice, i % 2)).status);
    expect(
      statuses.filter((s) => s === 201),
      JSON.stringify(statuses),
    ).to.have.length(20);
    expect(statuses.slice(20).every((s) => s === 429)).to.equal(true);
    for (const i of [0, 1]) {
      expect(await metrics(i)).to.match(/^chat_message_rate_limit_degraded\{limiter="message"\} 0$/m);
      expect(await metrics(i)).not.to.match(/^chat_message_rate_limit_local_decisions_total/m);
    }
  });

  it('with Redis down, each instance limits alone (its own fresh buckets) and chat goes on; the metrics say so', async () => {
    // Bob's membership checked once while Redis is up: the instance keeps the answer.
    expect((await send(bob, 0)).status).to.equal(201);
    const restarting = stack.redis.restart({ downForMs: 4_000 });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const statuses: number[] = [];
      for (let i = 0; i < 25; i++) statuses.push((await send(bob, 0)).status);
      expect(
        statuses.filter((s) => s === 201),
        JSON.stringify(statuses),
      ).to.have.length(20);
      expect(statuses.slice(20).every((s) => s === 429)).to.equal(true);
      const text = await metrics(0);
      expect(text).to.match(/^chat_message_rate_limit_degraded\{limiter="message"\} 1$/m);
      const local = /^chat_message_rate_limit_local_decisions_total\{limiter="message"\} (\d+)$/m.exec(text);
      expect(Number(local?.[1])).to.be.at.least(25);
    } finally {
      await restarting;
    }
  });
});
