// Failure matrix 6: 2 s of latency between the message service and MongoDB (a Toxiproxy latency toxic)
// under load. MongoDB calls exceed their deadlines, the `mongodb` breakers open, and the service sheds
// sends with 503 MSG_STORE_UNAVAILABLE and Retry-After instead of queueing them; when the latency goes
// the breakers close and every send the SDK kept repeating is stored once.
import { expect } from 'chai';
import { call, eventually } from '@chatcluster/harness';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { type User } from '@chatcluster/e2e';
import {
  ChatLoad,
  expectNothingLost,
  freshChannel,
  metricValue,
  outageMs,
  report,
  type ChaosPlatform,
  type LoadFigures,
} from '../src/index.js';
import { useChaosPlatform } from './support/shared-platform.js';

interface Probe {
  replica: string;
  status: number | string;
  code?: string;
  retryAfter?: string | null;
  ms: number;
}

describe('chaos 6: 2 s latency between the message service and MongoDB', function () {
  this.timeout(300_000);
  let platform: ChaosPlatform;
  let figures: LoadFigures;
  let opened: number;
  /** Calls the open breakers refused without touching MongoDB. */
  let rejected: number;
  let breakerMaxState: Record<string, number>;
  let breakersClosedMsAfterFault: number;
  const probes: Probe[] = [];
  let faultProbes = 0;

  const chaos = useChaosPlatform((p) => p.toxiproxy.reset());

  before(async function () {
    this.timeout(300_000);
    platform = chaos();
    const members = platform.users.slice(0, 6);
    const prober: User = platform.users[6]!;
    const channelId = await freshChannel(platform, [...members, prober]);
    const load = await ChatLoad.start({ messageUrl: platform.messageUrl, channelId, members });
    await load.progress(30);
    const replicas = (await platform.replicas('message')).map((r) => ({ name: r.name, url: r.url! }));
    const breakerEvents = async (event: 'open' | 'reject') => {
      let n = 0;
      for (const r of replicas) {
        const labels = { breaker: 'mongodb', event };
        n += (await metricValue(r.url, 'chat_message_circuit_breaker_events_total', labels)) ?? 0;
      }
      return n;
    };
    const opensBefore = await breakerEvents('open');
    const rejectsBefore = await breakerEvents('reject');

    // An HTTP send to each replica directly every second (the Service drops replicas whose readiness fails).
    let probing = true;
    const probeLoop = (async () => {
      while (probing) {
        for (const r of replicas) {
          const started = Date.now();
          try {
            const res = await call<{ error?: { code: string } }>(r.url, 'POST', '/api/v1/messages', {
              token: prober.token,
              body: { channelId, clientMessageId: `probe-${randomBytes(6).toString('hex')}`, body: 'probe' },
              timeoutMs: 30_000,
            });
            probes.push({
              replica: r.name,
              status: res.status,
              ...(res.body?.error?.code ? { code: res.body.error.code } : {}),
              retryAfter: res.headers.get('retry-after'),
              ms: Date.now() - started,
            });
          } catch (err) {
            probes.push({ replica: r.name, status: (err as Error).message, ms: Date.now() - started });
          }
        }
        await delay(1_000);
      }
    })();

    const duration = outageMs();
    breakerMaxState = {};
    try {
      await platform.toxiproxy.addToxic('mongodb', {
        name: 'slow',
        type: 'latency',
        attributes: { latency: 2_000, jitter: 0 },
      });
      load.mark('faultStart');
      const end = Date.now() + duration;
      while (Date.now() < end) {
        for (const r of replicas) {
          const state = await metricValue(r.url, 'chat_message_circuit_breaker_state', {
            breaker: 'mongodb',
          });
          if (state !== undefined) breakerMaxState[r.name] = Math.max(breakerMaxState[r.name] ?? 0, state);
        }
        await delay(500);
      }
    } finally {
      await platform.toxiproxy.removeToxic('mongodb', 'slow');
    }
    const faultEnd = Date.now();
    load.mark('faultEnd', faultEnd);
    faultProbes = probes.length;
    breakersClosedMsAfterFault =
      (await eventually(
        'every mongodb breaker closed',
        async () => {
          for (const r of replicas) {
            const state = await metricValue(r.url, 'chat_message_circuit_breaker_state', {
              breaker: 'mongodb',
            });
            if (state !== 0) return false;
          }
          return Date.now();
        },
        60_000,
        250,
      )) - faultEnd;
    load.mark('recovered', faultEnd + breakersClosedMsAfterFault);
    await load.progress(30, 120_000);
    // Sends made once the breakers closed, enough of them to judge the recovered service by.
    await load.run(10_000);
    probing = false;
    await probeLoop;
    figures = await load.stop(120_000);
    opened = (await breakerEvents('open')) - opensBefore;
    rejected = (await breakerEvents('reject')) - rejectsBefore;
    const shed = probes.slice(0, faultProbes).filter((p) => p.status === 503 && p.ms < 1_000);
    report('6-mongodb-latency-2s', figures, {
      faultSeconds: duration / 1000,
      breakerOpens: opened,
      breakerRejects: rejected,
      breakerMaxState,
      breakersClosedMsAfterFault,
      probesDuringFault: faultProbes,
      probesShed: shed.length,
      probesRefused: probes.slice(0, faultProbes).filter((p) => p.status === 503).length,
      probeStatuses: countBy(probes.slice(0, faultProbes).map((p) => String(p.status))),
      probeMaxMs: Math.max(...probes.map((p) => p.ms)),
      shedSample: shed.slice(0, 3),
    });
  });

  it('loses and duplicates no acknowledged message', () => {
    expectNothingLost(figures);
  });

  it('opens the mongodb breakers and sheds sends with 503 MSG_STORE_UNAVAILABLE and Retry-After', () => {
    expect(opened, 'mongodb breaker openings').to.be.greaterThan(0);
    expect(rejected, 'calls the open breakers refused without waiting for MongoDB').to.be.greaterThan(0);
    const during = probes.slice(0, faultProbes);
    const refused = during.filter((p) => p.status === 503);
    expect(refused.length, `probes answered 503 (of ${faultProbes})`).to.be.greaterThan(during.length / 2);
    for (const p of refused) {
      expect(p.code, JSON.stringify(p)).to.equal('MSG_STORE_UNAVAILABLE');
      expect(Number(p.retryAfter), JSON.stringify(p)).to.be.at.least(1);
      // A send already in a batch when the latency began, or let through as a half-open trial, waits
      // for MongoDB until the breaker opens: at the latest the send deadline (2 x MONGO_TIMEOUT_MS).
      expect(p.ms, `answered by the send deadline: ${JSON.stringify(p)}`).to.be.below(10_500);
    }
    // The rest are shed: refused at once, not queued behind the slow store.
    const fast = refused.filter((p) => p.ms < 1_000);
    expect(fast.length, `503s within 1 s: ${JSON.stringify(refused)}`).to.be.at.least(refused.length / 2);
  });

  it('recovers: breakers closed and sends as fast as before', () => {
    expect(breakersClosedMsAfterFault).to.be.below(30_000);
    const { before, after, recovered } = figures.latency;
    expect(after.messages).to.be.greaterThan(0);
    // Sends made while the breakers were still open after the fault were refused and repeated; the
    // ones made after they closed must be answered as fast as before the fault.
    expect(recovered!.messages, 'sends after the breakers closed').to.be.at.least(30);
    expect(recovered!.ackP50Ms!, 'ack p50 after recovery vs before').to.be.below(
      Math.max(100, 3 * before.ackP50Ms!),
    );
    expect(figures.timeToRecoverMs).to.be.a('number');
  });
});

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
