// Subscriptions of one connection: duplicate `subscribe` frames racing the membership check leave
// one subscription (every message once), and `unsubscribe` ends deliveries and the instance's feed
// with its Redis SUBSCRIBE.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { EventFrame, ServerFrame } from '@chatcluster/message-sdk';
import { call, channelWith, eventually, signup, type TestUser } from '../support/api.js';
import { RawSocket } from '../support/clients.js';
import { startStack, type Stack } from '../support/stack.js';

const isEvent = (f: ServerFrame): f is EventFrame => f.type === 'event';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('message: subscriptions of one connection', function () {
  let stack: Stack;
  let redis: Redis;
  let alice: TestUser;
  const sockets: RawSocket[] = [];

  before(async () => {
    stack = await startStack({ instances: 1 });
    redis = new Redis(stack.redis.url);
    alice = await signup(stack.auth.url, 'alice');
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  after(async () => {
    redis?.disconnect();
    await stack?.stop();
  });

  const url = () => stack.instances[0]!.url;
  const open = async () => {
    const s = await RawSocket.open(url(), alice.token);
    sockets.push(s);
    await s.next((f) => f.type === 'hello');
    return s;
  };
  const send = async (channelId: string, id: string) => {
    const res = await call(url(), 'POST', '/api/v1/messages', {
      body: { channelId, clientMessageId: id, body: id },
      token: alice.token,
    });
    expect(res.status).to.equal(201);
  };
  const redisSubscribers = async (channelId: string) =>
    Number(((await redis.pubsub('NUMSUB', `chat:events:${channelId}`)) as [string, number])[1]);
  const createdSeqs = (s: RawSocket, from = 0) =>
    s.frames
      .slice(from)
      .filter(isEvent)
      .flatMap((f) => (f.event.type === 'message.created' ? [f.event.seq] : []));

  it('two subscribe frames in a row leave one subscription; unsubscribe ends it and its feed', async () => {
    const channel = await channelWith(stack.auth.url, alice, []);
    const s = await open();
    s.send({ type: 'subscribe', channelId: channel });
    s.send({ type: 'subscribe', channelId: channel });
    await s.next((f) => f.type === 'subscribed');
    await sleep(200);
    for (let i = 0; i < 5; i++) await send(channel, `dup-${i}`);
    await eventually(
      () => createdSeqs(s).length,
      (n) => n >= 5,
    );
    await sleep(300);
    expect(createdSeqs(s), 'every message once').to.deep.equal([1, 2, 3, 4, 5]);
    expect(await redisSubscribers(channel)).to.equal(1);

    s.send({ type: 'unsubscribe', channelId: channel });
    await s.next((f) => f.type === 'unsubscribed');
    const after = s.frames.length;
    await send(channel, 'after-1');
    await send(channel, 'after-2');
    await sleep(500);
    expect(createdSeqs(s, after), 'nothing after unsubscribed').to.deep.equal([]);
    expect(
      await eventually(
        () => redisSubscribers(channel),
        (n) => n === 0,
      ),
    ).to.equal(0);
  });

  it('an unsubscribe right after a subscribe (during its membership check) wins', async () => {
    const channel = await channelWith(stack.auth.url, alice, []);
    const s = await open();
    s.send({ type: 'subscribe', channelId: channel });
    s.send({ type: 'unsubscribe', channelId: channel });
    await s.next((f) => f.type === 'unsubscribed');
    await sleep(300);
    await send(channel, 'late-1');
    await sleep(500);
    expect(createdSeqs(s)).to.deep.equal([]);
    expect(s.frames.filter((f) => f.type === 'subscribed')).to.deep.equal([]);
    expect(await redisSubscribers(channel)).to.equal(0);
  });
});
