// A revocation survives a lost Pub/Sub message: an instance cut off from Redis while a member is
// removed misses the Pub/Sub event for good, and still ends the member's subscription once it is
// back, from the chat:revocations stream.
import { expect } from 'chai';
import { call, channelWith, signup, type TestUser } from '../support/api.js';
import { RawSocket } from '../support/clients.js';
import type { ServiceProcess } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';
import type { UnsubscribedFrame } from '@chatcluster/message-sdk';

describe('message: revocations that cannot be lost', function () {
  let stack: Stack;
  let cutOff: ServiceProcess;
  let alice: TestUser;
  let bob: TestUser;
  const proxy = 'redis-cut-off';
  const sockets: RawSocket[] = [];

  before(async () => {
    stack = await startStack({ instances: 1 });
    const { listen } = await stack.toxiproxy.createProxy(proxy, `127.0.0.1:${stack.redis.port}`);
    cutOff = await stack.startInstance('cut-off', { REDIS_URL: `redis://${listen}` });
    [alice, bob] = (await Promise.all(['alice', 'bob'].map((n) => signup(stack.auth.url, n)))) as [
      TestUser,
      TestUser,
    ];
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  after(async () => {
    await stack?.stop();
  });

  const subscribe = async (url: string, user: TestUser, channelId: string) => {
    const s = await RawSocket.open(url, user.token);
    sockets.push(s);
    s.send({ type: 'subscribe', channelId });
    await s.next((f) => f.type === 'subscribed');
    return s;
  };
  const isUnsubscribed = (f: { type: string }): f is UnsubscribedFrame => f.type === 'unsubscribed';

  it('ends the subscription of a member removed while the instance could not hear Pub/Sub', async () => {
    const channel = await channelWith(stack.auth.url, alice, [bob]);
    const s = await subscribe(cutOff.url, bob, channel);
    await stack.toxiproxy.disableProxy(proxy);
    try {
      const removed = await call(stack.auth.url, 'DELETE', `/api/v1/channels/${channel}/members/${bob.id}`, {
        token: alice.token,
      });
      expect(removed.status).to.be.oneOf([200, 204]);
      // The event is published to nobody on this instance's side of the cut.
      await new Promise((r) => setTimeout(r, 500));
      expect(s.frames.filter(isUnsubscribed)).to.deep.equal([]);
    } finally {
      await stack.toxiproxy.enableProxy(proxy);
    }
    const back = Date.now();
    const ended = await s.next(isUnsubscribed, 10_000);
    expect(ended).to.deep.equal({ type: 'unsubscribed', channelId: channel, reason: 'membership.removed' });
    expect(Date.now() - back, 'within the reader retry and reconnect time').to.be.below(5_000);
  });
});
