// The access token stays out of the WebSocket URL: the first frame (what the SDK sends) or the
// subprotocol authenticate; a socket that does not within the deadline is closed with 4003; the
// query parameter is refused unless the deprecated flag allows it.
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { isDeepStrictEqual } from 'node:util';
import { channelWith, signup, type TestUser } from '../support/api.js';
import { RawSocket, RecordingClient, wsUrl } from '../support/clients.js';
import type { ServiceProcess } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';

describe('message: WebSocket authentication without the token in the URL', function () {
  let stack: Stack;
  let legacy: ServiceProcess;
  let alice: TestUser;
  let channel: string;
  const sockets: RawSocket[] = [];

  before(async () => {
    stack = await startStack({ instances: 1, env: { WS_AUTH_TIMEOUT_MS: '800' } });
    legacy = await stack.startInstance('legacy', { WS_QUERY_TOKEN_ENABLED: 'true' });
    alice = await signup(stack.auth.url, 'alice');
    channel = await channelWith(stack.auth.url, alice, []);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  after(async () => {
    await stack?.stop();
  });
  const url = () => stack.instances[0]!.url;
  const open = async (...args: Parameters<typeof RawSocket.open>) => {
    const s = await RawSocket.open(...args);
    sockets.push(s);
    return s;
  };

  it('authenticates by the first frame; frames sent right after it are handled in order', async () => {
    const s = await open(url(), null);
    s.send({ type: 'auth', token: alice.token });
    s.send({ type: 'ping', id: 'p1' });
    s.send({ type: 'subscribe', channelId: channel });
    s.send({ type: 'ping', id: 'p2' });
    const hello = await s.next((f) => f.type === 'hello');
    expect(hello).to.include({ userId: alice.id });
    await s.next((f) => f.type === 'subscribed');
    await s.next((f) => isDeepStrictEqual(f, { type: 'pong', id: 'p2' }));
    expect(s.frames[0]?.type, 'hello first').to.equal('hello');
    const pongs = s.frames.filter((f) => f.type === 'pong');
    expect(pongs).to.deep.equal([
      { type: 'pong', id: 'p1' },
      { type: 'pong', id: 'p2' },
    ]);
  });

  it('closes with 4003 a socket that does not authenticate within the deadline', async () => {
    const s = await open(url(), null);
    const started = Date.now();
    expect(await s.closed).to.equal(4003);
    expect(Date.now() - started).to.be.within(600, 3_000);
    expect(s.frames).to.deep.equal([]);
  });

  it('closes with 4003 a first frame that is not auth, and an invalid token', async () => {
    const wrong = await open(url(), null);
    wrong.send({ type: 'subscribe', channelId: channel });
    expect(await wrong.closed).to.equal(4003);
    const invalid = await open(url(), `${alice.token.slice(0, -4)}AAAA`, 'frame');
    expect(await invalid.closed).to.equal(4003);
    expect(invalid.frames).to.deep.equal([]);
  });

  it('authenticates by a bearer subprotocol and answers chatcluster.v1', async () => {
    const s = await open(url(), alice.token, 'protocol');
    expect(s.ws.protocol).to.equal('chatcluster.v1');
    expect(await s.next((f) => f.type === 'hello')).to.include({ userId: alice.id });
  });

  it('refuses the token in the query string with 400 MSG_TOKEN_IN_URL unless the deprecated flag is on', async () => {
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(`${wsUrl(url())}?access_token=${encodeURIComponent(alice.token)}`);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.once('open', () => reject(new Error('upgraded')));
    });
    expect(refused.status).to.equal(400);
    expect(JSON.parse(refused.body)).to.have.nested.property('error.code', 'MSG_TOKEN_IN_URL');
    const allowed = await open(legacy.url, alice.token, 'query');
    expect(await allowed.next((f) => f.type === 'hello')).to.include({ userId: alice.id });
  });

  it('the SDK authenticates by the first frame', async () => {
    const c = new RecordingClient([url()], alice.token);
    try {
      await c.open();
      await c.subscribed(channel);
      await c.client.send(channel, 'over the first frame');
    } finally {
      c.close();
    }
  });
});
