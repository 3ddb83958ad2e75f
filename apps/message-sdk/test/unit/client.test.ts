// The SDK against a scripted WebSocket: backoff, resume, resend until acknowledged, deduplication.
import { expect } from 'chai';
import { ChatClient, fullJitterDelay, type ServerFrame, type WebSocketLike } from '../../src/index.js';

class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: Record<string, unknown>[] = [];
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    this.drop(1000);
  }
  open(instanceId = 'i1'): void {
    this.readyState = 1;
    this.onopen?.({});
    this.deliver({
      type: 'hello',
      connectionId: 'c',
      instanceId,
      userId: 'u',
      heartbeatMs: 30_000,
      idleTimeoutMs: 300_000,
      maxPayloadBytes: 65_536,
    });
  }
  deliver(frame: ServerFrame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(code = 1006): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const event = (seq: number, version = 1, type = 'message.created') =>
  ({
    type: 'event',
    event: {
      type,
      channelId: 'ch',
      seq,
      version,
      at: `2025-01-01T00:00:0${seq}.000Z`,
      message: {
        id: `m${seq}`,
        channelId: 'ch',
        seq,
        senderId: 'u',
        clientMessageId: `c${seq}`,
        body: `b${seq}`,
        createdAt: '',
        editedAt: null,
        deletedAt: null,
        reactions: {},
        version,
      },
    },
  }) as ServerFrame;

describe('message-sdk: client', () => {
  beforeEach(() => (FakeSocket.all = []));

  it('backs off with full jitter between 1 s and 30 s', () => {
    const at = (attempt: number, r: number) =>
      fullJitterDelay(attempt, { minMs: 1_000, maxMs: 30_000, random: () => r });
    expect(at(0, 0)).to.equal(1_000);
    expect(at(3, 0.5)).to.equal(4_000);
    expect(at(10, 0.999)).to.equal(29_970);
    expect(at(10, 0)).to.equal(1_000);
  });

  it('resubscribes from the last seq and resends unacknowledged sends with the same id after a reconnect', async () => {
    const client = new ChatClient({
      urls: ['ws://a/ws', 'ws://b/ws'],
      token: 't',
      WebSocket: FakeSocket,
      minBackoffMs: 1,
      maxBackoffMs: 2,
    });
    const messages: number[] = [];
    client.on('message', (e) => messages.push(e.seq));
    client.connect();
    await tick();
    const first = FakeSocket.all[0]!;
    first.open();
    client.subscribe('ch');
    first.deliver(event(1));
    first.deliver(event(2));
    first.deliver(event(2));
    const sending = client.send('ch', 'hello', 'cid-1');
    expect(first.sent.filter((f) => f['type'] === 'send')).to.have.length(1);
    first.drop();
    await tick(20);
    const second = FakeSocket.all[1]!;
    expect(second.url, 'no token in the URL').to.equal('ws://b/ws');
    second.open('i2');
    expect(second.sent[0], 'the token in the first frame').to.deep.equal({ type: 'auth', token: 't' });
    expect(second.sent.find((f) => f['type'] === 'subscribe')).to.include({ channelId: 'ch', lastSeq: 2 });
    expect(second.sent.find((f) => f['type'] === 'send')).to.include({
      clientMessageId: 'cid-1',
      body: 'hello',
    });
    second.deliver(event(2));
    second.deliver(event(3));
    second.deliver({
      type: 'ack',
      channelId: 'ch',
      clientMessageId: 'cid-1',
      seq: 3,
      messageId: 'm3',
      createdAt: '',
      duplicate: true,
    });
    expect((await sending).seq).to.equal(3);
    expect(messages).to.deep.equal([1, 2, 3]);
    client.close();
  });

  it('emits only newer versions as updates, and honours a reconnect notice', async () => {
    const client = new ChatClient({
      url: 'ws://a/ws',
      token: () => 'fresh',
      WebSocket: FakeSocket,
      minBackoffMs: 5_000,
    });
    const updates: number[] = [];
    client.on('update', (e) => updates.push(e.version));
    client.connect();
    await tick();
    const ws = FakeSocket.all[0]!;
    ws.open();
    client.subscribe('ch');
    ws.deliver(event(1));
    ws.deliver(event(1, 3, 'reaction.added'));
    ws.deliver(event(1, 2, 'message.edited'));
    ws.deliver(event(1, 3, 'reaction.added'));
    expect(updates).to.deep.equal([3]);
    ws.deliver({ type: 'reconnect', reason: 'shutdown', delayMs: 10 });
    ws.drop(1012);
    await tick(40);
    expect(FakeSocket.all).to.have.length(2);
    expect(client.state).to.equal('reconnecting');
    client.close();
  });

  it('rejects a send on a final error and retries it on a retryable one', async () => {
    const client = new ChatClient({ url: 'ws://a/ws', token: 't', WebSocket: FakeSocket, random: () => 0 });
    client.connect();
    await tick();
    const ws = FakeSocket.all[0]!;
    ws.open();
    const mismatch = client.send('ch', 'x', 'dup');
    ws.deliver({ type: 'error', code: 'MSG_IDEMPOTENCY_MISMATCH', message: 'no', ref: 'dup' });
    const err = await mismatch.catch((e: { code: string }) => e);
    expect(err).to.include({ code: 'MSG_IDEMPOTENCY_MISMATCH' });
    const limited = client.send('ch', 'y', 'slow');
    ws.deliver({ type: 'error', code: 'RATE_LIMITED', message: 'wait', ref: 'slow', retryAfterSeconds: 0 });
    await tick(150);
    expect(ws.sent.filter((f) => f['clientMessageId'] === 'slow')).to.have.length(2);
    ws.deliver({
      type: 'ack',
      channelId: 'ch',
      clientMessageId: 'slow',
      seq: 9,
      messageId: 'm',
      createdAt: '',
      duplicate: false,
    });
    expect((await limited).seq).to.equal(9);
    // A code the SDK does not know, which the server asks to repeat later (a bad release's 503).
    const refused = client.send('ch', 'z', 'later');
    ws.deliver({
      type: 'error',
      code: 'MSG_FAULT_INJECTED',
      message: 'no',
      ref: 'later',
      retryAfterSeconds: 0,
    });
    await tick(150);
    expect(ws.sent.filter((f) => f['clientMessageId'] === 'later')).to.have.length(2);
    ws.deliver({
      type: 'ack',
      channelId: 'ch',
      clientMessageId: 'later',
      seq: 10,
      messageId: 'm2',
      createdAt: '',
      duplicate: false,
    });
    expect((await refused).seq).to.equal(10);
    client.close();
  });

  it('acknowledges deliveries in one frame for every channel that moved, once per ackIntervalMs', async () => {
    const client = new ChatClient({ url: 'ws://a/ws', token: 't', WebSocket: FakeSocket, ackIntervalMs: 40 });
    const inChannel = (channelId: string, seq: number): ServerFrame => {
      const frame = event(seq) as Extract<ServerFrame, { type: 'event' }>;
      return { ...frame, event: { ...frame.event, channelId } };
    };
    client.connect();
    await tick();
    const socket = FakeSocket.all[0]!;
    socket.open();
    client.subscribe('ch');
    client.subscribe('other');
    const acks = () => socket.sent.filter((f) => f['type'] === 'ack');
    socket.deliver(inChannel('ch', 1));
    socket.deliver(inChannel('ch', 2));
    socket.deliver(inChannel('other', 1));
    await tick(10);
    expect(acks(), 'nothing before the interval').to.deep.equal([]);
    await tick(60);
    expect(acks()).to.deep.equal([
      {
        type: 'ack',
        acks: [
          { channelId: 'ch', seq: 2 },
          { channelId: 'other', seq: 1 },
        ],
      },
    ]);
    socket.deliver(inChannel('other', 2));
    await tick(70);
    expect(acks()[1], 'only the channel that moved').to.deep.equal({
      type: 'ack',
      acks: [{ channelId: 'other', seq: 2 }],
    });
    await tick(70);
    expect(acks(), 'nothing moved, nothing sent').to.have.length(2);
    client.close();
  });
});
