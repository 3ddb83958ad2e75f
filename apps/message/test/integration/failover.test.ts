// An instance dies (SIGKILL) or is stopped (SIGTERM) while clients send and receive: every
// acknowledged message reaches every member exactly once, in seq order, after the SDK reconnects.
import { expect } from 'chai';
import { channelWith, eventually, signup, type TestUser } from '../support/api.js';
import { RecordingClient } from '../support/clients.js';
import { expectExactlyOnceInOrder, sendMany } from '../support/load.js';
import { startStack, type Stack } from '../support/stack.js';

describe('message: instance failure and deploys', function () {
  let stack: Stack;
  let users: TestUser[];
  const clients: RecordingClient[] = [];

  beforeEach(async () => {
    stack = await startStack({ env: { SEND_BURST: '10000', SEND_RATE_PER_MIN: '100000' } });
    users = await Promise.all(['s1', 's2', 'r1', 'r2'].map((n) => signup(stack.auth.url, n)));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await stack?.stop();
  });

  /** s1 and r1 start on instance 1, s2 and r2 on instance 2; each knows both. */
  async function setUp() {
    const [s1, s2, r1, r2] = users as [TestUser, TestUser, TestUser, TestUser];
    const channel = await channelWith(stack.auth.url, s1, [s2, r1, r2]);
    const [one, two] = stack.instances.map((i) => i.url) as [string, string];
    const make = (u: TestUser, urls: string[]) => {
      const c = new RecordingClient(urls, u.token);
      clients.push(c);
      return c;
    };
    const all = [make(s1, [one, two]), make(s2, [two, one]), make(r1, [one, two]), make(r2, [two, one])];
    await Promise.all(all.map((c) => c.open()));
    await Promise.all(all.map((c) => c.subscribed(channel)));
    return { channel, all, senders: all.slice(0, 2) as [RecordingClient, RecordingClient] };
  }

  it('SIGKILL: clients move to the survivor and every acknowledged message arrives once, in order', async () => {
    const { channel, all, senders } = await setUp();
    const victim = stack.instances[0]!;
    const sending = senders.map((s, i) => sendMany(s, channel, 60, { prefix: `k${i}`, gapMs: 20 }));
    await eventually(
      () => all[3]!.received(channel).length,
      (n) => n >= 30,
    );
    victim.kill('SIGKILL');
    expect(await victim.exited).to.equal('SIGKILL');
    const acks = (await Promise.all(sending)).flat();
    expect(acks).to.have.length(120);
    for (const c of all) {
      await eventually(
        () => c.received(channel).length,
        (n) => n >= 120,
        30_000,
      );
      expectExactlyOnceInOrder(c, channel, acks);
    }
    // Those that were on the killed instance reconnected to the other one.
    expect(all[0]!.instances.at(-1)).to.equal('message-2');
    expect(all[2]!.instances.at(-1)).to.equal('message-2');
  });

  it('SIGTERM: clients get a reconnect notice and 1012, the process exits 0, nothing acknowledged is lost', async () => {
    const { channel, all, senders } = await setUp();
    const leaving = stack.instances[0]!;
    const sending = senders.map((s, i) => sendMany(s, channel, 50, { prefix: `t${i}`, gapMs: 20 }));
    await eventually(
      () => all[3]!.received(channel).length,
      (n) => n >= 25,
    );
    leaving.kill('SIGTERM');
    const acks = (await Promise.all(sending)).flat();
    expect(await leaving.exited).to.equal(0);
    for (const c of all) {
      await eventually(
        () => c.received(channel).length,
        (n) => n >= 100,
        30_000,
      );
      expectExactlyOnceInOrder(c, channel, acks);
    }
    for (const moved of [all[0]!, all[2]!]) {
      expect(moved.notices, 'reconnect notice').to.have.length(1);
      expect(moved.notices[0]).to.be.within(0, 300);
      expect(moved.closeCodes).to.include(1012);
      expect(moved.instances.at(-1)).to.equal('message-2');
    }
    // The survivor never dropped its clients.
    expect(all[1]!.instances).to.deep.equal(['message-2']);
  });
});
