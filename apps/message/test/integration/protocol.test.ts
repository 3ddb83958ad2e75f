// The protocol's edges: rate limits (WebSocket sends and HTTP), malformed, unknown and oversize
// frames, the idle timeout, and the slow-consumer disconnect.
import { expect } from 'chai';
import type { ErrorFrame, SendAckFrame, ServerFrame } from '@chatcluster/message-sdk';
import { call, channelWith, eventually, signup, type TestUser } from '../support/api.js';
import { RawSocket } from '../support/clients.js';
import type { ServiceProcess } from '../support/processes.js';
import { startStack, type Stack } from '../support/stack.js';

const isError = (f: ServerFrame): f is ErrorFrame => f.type === 'error';
const isAck = (f: ServerFrame): f is SendAckFrame => f.type === 'ack';

async function metric(url: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = text.split('\n').find((l) => line.test(l));
  return found ? Number(found.split(' ').pop()) : 0;
}

describe('message: protocol limits and bad input', function () {
  let stack: Stack;
  /** Production limits (100/min, 20 per 10 s), a short idle timeout. */
  let strict: ServiceProcess;
  let alice: TestUser;
  let bob: TestUser;
  let channel: string;
  const sockets: RawSocket[] = [];

  before(async () => {
    stack = await startStack({
      instances: 1,
      env: {
        SEND_BURST: '100000',
        SEND_RATE_PER_MIN: '1000000',
        HTTP_RATE_PER_MIN: '30',
        WS_MAX_BUFFERED_BYTES: '256kb',
      },
    });
    strict = await stack.startInstance('strict', {
      SEND_BURST: '20',
      SEND_RATE_PER_MIN: '100',
      HTTP_RATE_PER_MIN: '1000',
      WS_IDLE_TIMEOUT_MS: '1500',
      WS_HEARTBEAT_MS: '500',
    });
    [alice, bob] = (await Promise.all(['alice', 'bob'].map((n) => signup(stack.auth.url, n)))) as [
      TestUser,
      TestUser,
    ];
    channel = await channelWith(stack.auth.url, alice, [bob]);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  after(async () => {
    await stack?.stop();
  });

  const open = async (url: string, user: TestUser) => {
    const s = await RawSocket.open(url, user.token);
    sockets.push(s);
    await s.next((f) => f.type === 'hello');
    return s;
  };

  it('limits sends per user to bursts of 20, answering RATE_LIMITED with retryAfterSeconds', async () => {
    const s = await open(strict.url, bob);
    for (let i = 0; i < 25; i++)
      s.send({ type: 'send', channelId: channel, clientMessageId: `burst-${i}`, body: `b${i}` });
    await eventually(
      () => s.frames.filter((f) => isAck(f) || isError(f)).length,
      (n) => n === 25,
    );
    const acks = s.frames.filter(isAck);
    const limited = s.frames.filter(isError);
    expect(acks).to.have.length(20);
    expect(limited).to.have.length(5);
    for (const e of limited) {
      expect(e.code).to.equal('RATE_LIMITED');
      expect(e.retryAfterSeconds).to.be.within(1, 10);
      expect(e.ref).to.match(/^burst-/);
    }
    // HTTP sends share the user's budget.
    const http = await call<{ error: { code: string } }>(strict.url, 'POST', '/api/v1/messages', {
      body: { channelId: channel, clientMessageId: 'http-after-burst', body: 'x' },
      token: bob.token,
    });
    expect(http.status).to.equal(429);
    expect(Number(http.headers.get('retry-after'))).to.be.greaterThan(0);
  });

  it('limits HTTP requests per user with 429 and Retry-After', async () => {
    const url = stack.instances[0]!.url;
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      statuses.push(
        (await call(url, 'GET', `/api/v1/messages?channelId=${channel}&limit=1`, { token: alice.token }))
          .status,
      );
    }
    expect(statuses.slice(0, 30)).to.deep.equal(Array(30).fill(200));
    expect(statuses[30]).to.equal(429);
    expect(
      (await call(url, 'GET', `/api/v1/messages?channelId=${channel}&limit=1`, { token: bob.token })).status,
    ).to.equal(200);
  });

  it('answers malformed and unknown frames with error frames and keeps the connection', async () => {
    const s = await open(stack.instances[0]!.url, bob);
    const cases: [unknown, string][] = [
      ['{not json', 'MALFORMED_FRAME'],
      ['[1,2,3]', 'MALFORMED_FRAME'],
      ['"just a string"', 'MALFORMED_FRAME'],
      [{ type: 'teleport' }, 'UNKNOWN_FRAME'],
      [{ noType: true }, 'UNKNOWN_FRAME'],
      [{ type: 'send', channelId: channel, clientMessageId: 'v1', body: '' }, 'VALIDATION_FAILED'],
      [{ type: 'send', channelId: 'not-a-uuid', clientMessageId: 'v2', body: 'x' }, 'VALIDATION_FAILED'],
      [{ type: 'send', channelId: channel, clientMessageId: '~hole:1', body: 'x' }, 'VALIDATION_FAILED'],
      [{ type: 'subscribe', channelId: channel, lastSeq: -1 }, 'VALIDATION_FAILED'],
      [
        { type: 'send', channelId: channel, clientMessageId: 'v3', body: 'x'.repeat(4001) },
        'VALIDATION_FAILED',
      ],
    ];
    for (const [frame, code] of cases) {
      const from = s.frames.length;
      s.send(frame);
      expect((await s.next(isError, 5_000, from)).code, JSON.stringify(frame).slice(0, 60)).to.equal(code);
    }
    const from = s.frames.length;
    s.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await s.next(isError, 5_000, from)).code).to.equal('MALFORMED_FRAME');
    s.send({ type: 'ping', id: 'still-there' });
    expect(await s.next((f) => f.type === 'pong' && f.id === 'still-there')).to.be.ok;
  });

  it('closes a connection that sends a frame over maxPayload with 1009, and the instance keeps serving', async () => {
    const s = await open(stack.instances[0]!.url, bob);
    s.send({ type: 'send', channelId: channel, clientMessageId: 'huge', body: 'x'.repeat(70 * 1024) });
    expect(await s.closed).to.equal(1009);
    const again = await open(stack.instances[0]!.url, bob);
    again.send({ type: 'ping', id: 'after' });
    expect(await again.next((f) => f.type === 'pong')).to.be.ok;
  });

  it('closes an idle connection with 4000 after the idle timeout', async () => {
    const s = await open(strict.url, bob);
    expect(await s.closed).to.equal(4000);
    // The server counts the close once the client's close frame came back.
    const idleClosed = await eventually(
      () => metric(strict.url, /^chat_message_ws_connections_closed_total\{reason="idle"\}/),
      (n) => n >= 1,
    );
    expect(idleClosed).to.be.at.least(1);
  });

  it('disconnects a slow consumer instead of buffering without bound, and it can resume', async () => {
    const url = stack.instances[0]!.url;
    const busy = await channelWith(stack.auth.url, alice, [bob]);
    const sender = await open(url, alice);
    // 12 KB per event (3-byte characters), 7 MB in all: more than a paused reader's socket buffers hold.
    const body = '€'.repeat(4_000);
    for (let i = 0; i < 600; i++)
      sender.send({ type: 'send', channelId: busy, clientMessageId: `bulk-${i}`, body });
    const acked = await eventually(
      () => sender.frames.filter(isAck).length,
      (n) => n === 600,
      120_000,
    );
    expect(acked).to.equal(600);

    const slow = await open(url, bob);
    // Stop reading: the kernel buffers fill, then the server's send buffer grows past its bound.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    slow.send({ type: 'subscribe', channelId: busy, lastSeq: 0 });
    const closed = await eventually(
      () => metric(url, /^chat_message_ws_connections_closed_total\{reason="slow_consumer"\}/),
      (n) => n >= 1,
      60_000,
    );
    expect(closed).to.be.at.least(1);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await slow.closed;

    // Resuming from where it got to works on a new connection.
    const resumed = await open(url, bob);
    resumed.send({ type: 'subscribe', channelId: busy, lastSeq: 500 });
    const subscribed = await resumed.next((f) => f.type === 'subscribed', 30_000);
    expect(subscribed).to.deep.include({ channelId: busy });
    expect(resumed.frames.filter((f) => f.type === 'event')).to.have.length(100);
  });
});
