// The WebSocket send path's metrics, which the canary analysis reads (operator/src/specs/analysis.ts):
// every send frame answered is counted by the status of its answer, and an acked send's latency from
// its frame to its ack is observed.
import { expect } from 'chai';
import { createMetrics } from '@chatcluster/kit';
import { msgErrors } from '../../src/errors.js';
import { messageMetrics } from '../../src/metrics.js';
import type { CreateResult } from '../../src/store/message-store.js';
import type { MessageDoc } from '../../src/store/models.js';
import { Connection, type ConnectionDeps } from '../../src/ws/connection.js';

const channelId = '3f0b8a9e-8d2c-4c6f-9a51-6f1d2b7e4c10';
const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

describe('message: WebSocket send metrics', () => {
  function connection(answers: (() => Promise<CreateResult>)[], limited = false) {
    const metrics = messageMetrics(createMetrics('chat_wssendtest'));
    const frames: { type: string; code?: string }[] = [];
    const deps = {
      access: { requireMember: async () => {} },
      sends: { send: () => answers.shift()!() },
      sendLimiter: { take: () => (limited ? 1 : 0), refundIfServerFault: () => {} },
      metrics,
      logger: silent,
      maxBufferedBytes: 1 << 20,
      hub: {},
    } as unknown as ConnectionDeps;
    const ws = {
      send: (data: string) => frames.push(JSON.parse(data) as { type: string; code?: string }),
      bufferedAmount: 0,
    };
    const socket = { cork: () => {}, uncork: () => {}, write: () => true };
    const c = new Connection(ws as never, socket, 'u1', deps);
    return { c, metrics, frames };
  }
  const send = (c: Connection, n: number) =>
    c.onMessage(
      Buffer.from(JSON.stringify({ type: 'send', channelId, clientMessageId: `m${n}`, body: 'hi' })),
      false,
    );
  const settle = () => new Promise((r) => setTimeout(r, 30));
  const values = async (metrics: ReturnType<typeof messageMetrics>) => {
    const sends = await metrics.wsSends.get();
    const latency = await metrics.ackLatency.get();
    return {
      byCode: Object.fromEntries(sends.values.map((v) => [String(v.labels.code), v.value])) as Record<
        string,
        number
      >,
      acked: latency.values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0,
      slowerThanHalfSecond:
        (latency.values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0) -
        (latency.values.find((v) => (v.labels as Record<string, unknown>).le === 0.5)?.value ?? 0),
    };
  };

  it('counts acks as 200 with their latency, and refusals by their status (5xx for the store)', async () => {
    const stored: CreateResult = {
      ok: true,
      duplicate: false,
      doc: { _id: 'x', seq: 1, createdAt: new Date() } as MessageDoc,
    };
    const slow = () => new Promise<CreateResult>((r) => setTimeout(() => r(stored), 600));
    const { c, metrics, frames } = connection([
      () => Promise.resolve(stored),
      slow,
      () =>
        Promise.resolve<CreateResult>({
          ok: false,
          error: msgErrors.MSG_STORE_UNAVAILABLE('message store unavailable'),
        }),
    ]);
    send(c, 1);
    send(c, 2);
    send(c, 3);
    await new Promise((r) => setTimeout(r, 700));
    expect(frames.map((f) => f.type).sort()).to.deep.equal(['ack', 'ack', 'error']);
    const v = await values(metrics);
    expect(v.byCode).to.deep.equal({ '200': 2, '503': 1 });
    expect(v.acked).to.equal(2);
    // The 600 ms send is above the 0.5 s bucket: an ack slower than the delivery objective.
    expect(v.slowerThanHalfSecond).to.equal(1);
  });

  it('counts a rate-limited send as 429, not as a server error', async () => {
    const { c, metrics } = connection([], true);
    send(c, 1);
    await settle();
    expect((await values(metrics)).byCode).to.deep.equal({ '429': 1 });
  });
});
