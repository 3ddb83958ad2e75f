// The subscribe side of the bus on a real Redis: an instance drops its own publications unread,
// takes the others' in the bytes they arrived in (the event frame is built from them, not
// re-encoded), and still takes an origin-less payload from an older publisher.
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createLogger } from '@chatcluster/kit';
import { eventually, startRedis, type RedisServer } from '@chatcluster/harness';
import type { MessageEvent } from '@chatcluster/message-sdk';
import { Bus } from '../../src/bus/bus.js';
import { eventsChannel } from '../../src/bus/keys.js';
import { createRedisGuard } from '../../src/bus/redis-guard.js';
import { encodedEvent, eventFrame, eventWireFrame } from '../../src/delivery/encoding.js';

const channelId = '6a3c1e7e-2b1f-4a4e-9d0f-3c2b1a0e9f8d';
const event = (seq: number): MessageEvent => ({
  type: 'message.created',
  channelId,
  seq,
  version: 1,
  at: '2026-01-01T00:00:00.000Z',
  message: {
    id: `${channelId}:${seq}`,
    channelId,
    seq,
    senderId: 'u1',
    clientMessageId: `c${seq}`,
    body: `body ${seq} ✓`,
    createdAt: '2026-01-01T00:00:00.000Z',
    editedAt: null,
    deletedAt: null,
    reactions: {},
    version: 1,
  },
});

describe('message: bus fan-out (subscribe side)', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  const buses: Bus[] = [];
  const logger = createLogger({ service: 'test', level: 'silent' });

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await redis?.stop();
  });

  const bus = async (instanceId: string) => {
    const b = new Bus({ url: redis.url, instanceId, guard: createRedisGuard(2_000), logger, recentSize: 50 });
    buses.push(b);
    await b.start();
    await b.subscribe(channelId);
    const got: MessageEvent[] = [];
    b.onEvent((e) => got.push(e));
    return { b, got };
  };

  it("drops its own echo, takes the other instance's events in the bytes they arrived in", async () => {
    const a = await bus('instance-a');
    const b = await bus('instance-b');
    const sent = event(1);
    await a.b.publish([sent]);
    await eventually('b received seq 1', () => b.got.length === 1);
    // Give a's echo the same time to arrive: it must not.
    await a.b.publish([event(2)]);
    await eventually('b received seq 2', () => b.got.length === 2);
    expect(a.got, 'the sender parsed its own echo').to.deep.equal([]);
    const received = b.got[0]!;
    expect(received).to.deep.equal(sent);
    // The frame is the published bytes, wrapped: no second encoding on the receiving instance.
    const frame = eventFrame(received, 'created');
    expect(frame.toString()).to.equal(`{"type":"event","event":${encodedEvent(sent).toString()}}`);
    const wire = eventWireFrame(received, 'created');
    expect(
      wire.subarray(wire.length - frame.length).equals(frame),
      'the WebSocket frame carries it',
    ).to.equal(true);
    expect(eventWireFrame(received, 'created'), 'one buffer for every recipient').to.equal(wire);
    expect(JSON.parse(frame.toString())).to.deep.equal({ type: 'event', event: sent });
  });

  it('takes a payload without an origin (an older publisher)', async () => {
    const c = await bus('instance-c');
    const plain = new Redis(redis.url);
    try {
      await plain.publish(eventsChannel(channelId), JSON.stringify(event(3)));
    } finally {
      plain.disconnect();
    }
    await eventually('c received seq 3', () => c.got.some((e) => e.seq === 3));
  });
});
