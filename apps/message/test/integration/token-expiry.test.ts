// The protocol's timed closes: the server closes with 4001 when the access token expires (the SDK
// gets a new token, reconnects and resumes, losing nothing), and terminates a client that stops
// answering pings within two heartbeats.
import { expect } from 'chai';
import { call, channelWith, signup, type TestUser } from '../support/api.js';
import { RawSocket, RecordingClient } from '../support/clients.js';
import { expectExactlyOnceInOrder, sendMany } from '../support/load.js';
import type { ServiceProcess } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';

const tokenTtlSeconds = 5;
const heartbeatMs = 500;

describe('message: token expiry and heartbeat termination', function () {
  let stack: Stack;
  let beating: ServiceProcess;
  let alice: TestUser;
  let bob: TestUser;
  let channel: string;
  const clients: RecordingClient[] = [];
  const sockets: RawSocket[] = [];

  before(async () => {
    stack = await startStack({
      instances: 1,
      authEnv: { ACCESS_TOKEN_TTL_SECONDS: String(tokenTtlSeconds) },
      env: { SEND_BURST: '10000', SEND_RATE_PER_MIN: '100000' },
    });
    beating = await stack.startInstance('heartbeat', { WS_HEARTBEAT_MS: String(heartbeatMs) });
    [alice, bob] = (await Promise.all(['alice', 'bob'].map((n) => signup(stack.auth.url, n)))) as [
      TestUser,
      TestUser,
    ];
    channel = await channelWith(stack.auth.url, alice, [bob]);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    for (const s of sockets.splice(0)) s.close();
  });
  after(async () => {
    await stack?.stop();
  });

  /** A new access token, as an app gets one when the SDK asks (here by logging in again). */
  const freshToken = (user: TestUser) => async () => {
    const res = await call<{ accessToken: string }>(stack.auth.url, 'POST', '/api/v1/auth/login', {
      body: { username: user.username, password: 'correct horse battery' },
    });
    if (res.status !== 200) throw new Error(`login: ${res.status}`);
    return res.body.accessToken;
  };
  const expiryOf = (token: string) =>
    (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;

  it('closes with 4001 when the access token expires', async () => {
    const token = await freshToken(bob)();
    const s = await RawSocket.open(stack.instances[0]!.url, token);
    sockets.push(s);
    await s.next((f) => f.type === 'hello');
    expect(await s.closed).to.equal(4001);
    expect(Date.now() - expiryOf(token)).to.be.within(-100, 1_500);
  });

  it('the SDK gets a new token, reconnects and resumes: every message arrives once, in order', async () => {
    const url = stack.instances[0]!.url;
    const sender = new RecordingClient([url], freshToken(alice), { minBackoffMs: 50, maxBackoffMs: 200 });
    const receiver = new RecordingClient([url], freshToken(bob), { minBackoffMs: 50, maxBackoffMs: 200 });
    clients.push(sender, receiver);
    await Promise.all([sender.open(), receiver.open()]);
    await Promise.all([sender.subscribed(channel), receiver.subscribed(channel)]);
    // Over more than one token lifetime, so both connections expire mid-stream.
    const acks = await sendMany(sender, channel, 40, { prefix: 'exp', gapMs: 200, concurrency: 1 });
    await new Promise<void>((resolve) => {
      const check = () =>
        receiver.received(channel).length >= acks.length ? resolve() : setTimeout(check, 50);
      check();
    });
    expect(receiver.closeCodes, 'the receiver saw its token expire').to.include(4001);
    expect(sender.closeCodes, 'the sender saw its token expire').to.include(4001);
    expect(receiver.instances.length).to.be.at.least(2);
    expectExactlyOnceInOrder(receiver, channel, acks);
  });

  it('terminates a client that stops answering pings within two heartbeats, and keeps one that answers', async () => {
    const silent = await RawSocket.open(beating.url, await freshToken(alice)(), 'frame', { autoPong: false });
    const answering = await RawSocket.open(beating.url, await freshToken(bob)());
    sockets.push(silent, answering);
    await Promise.all([silent.next((f) => f.type === 'hello'), answering.next((f) => f.type === 'hello')]);
    const opened = Date.now();
    expect(await silent.closed, 'terminated without a close frame').to.equal(1006);
    expect(Date.now() - opened).to.be.below(2 * heartbeatMs + 500);
    await new Promise((r) => setTimeout(r, 4 * heartbeatMs));
    expect(answering.closeCode, 'a client answering pings stays').to.equal(undefined);
    const metrics = await call<string>(beating.url, 'GET', '/metrics');
    expect(metrics.body).to.match(/^chat_message_ws_connections_closed_total\{reason="heartbeat"\} 1$/m);
  });
});
