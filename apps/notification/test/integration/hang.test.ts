// A provider that hangs for 30 s must not slow chat down: FCM is black-holed by Toxiproxy (requests
// never reach it, no answer comes back) while users keep sending messages through the real message
// service, which writes chat:notify for the notification service. Measured: the message service's
// send latency (POST /api/v1/messages) before and during the hang, that every e-mail still goes out
// while FCM hangs, that FCM calls in flight stay within the bulkhead, and that every push goes out
// exactly once after the hang.
import { randomUUID } from 'node:crypto';
import { startFerretDB, type FerretDBServer } from '@chatcluster/harness';
import { expect } from 'chai';
import type { NotificationApp } from '../../src/app.js';
import { FcmStandIn } from '../support/fcm-standin.js';
import { SendGridStandIn } from '../support/sendgrid-standin.js';
import { AUDIENCE, environment, freshRedisUrl, INTERNAL_TOKEN, ISSUER } from './support/environment.js';
import {
  FCM_PROJECT,
  FCM_TOKEN,
  SENDGRID_KEY,
  messageMainJs,
  metric,
  serviceEnv,
  startChild,
  startInProcess,
  testRedis,
  unacknowledged,
  waitUntil,
  type ChildService,
} from './support/service.js';
import { createWorld, fcmToken, settingsApi, type World } from './support/world.js';

const HANG_MS = 30_000;
const MAX_CONCURRENT = 4;

interface Sent {
  readonly messageId: string;
  readonly sentAt: number;
  readonly latencyMs: number;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(values: readonly number[]): string {
  const max = Math.max(...values);
  return `p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms, max ${max.toFixed(1)} ms (n=${values.length})`;
}

describe('a 30 s FCM hang', function () {
  const proxyName = 'notification-fcm-hang';
  let fcm: FcmStandIn;
  let sendgrid: SendGridStandIn;
  let ferret: FerretDBServer;
  let message: ChildService;
  let app: NotificationApp;
  let world: World;
  let redis: ReturnType<typeof testRedis>;
  let tokens: string[];

  before(async () => {
    const env = await environment();
    fcm = await new FcmStandIn(FCM_PROJECT, FCM_TOKEN).start();
    sendgrid = await new SendGridStandIn(SENDGRID_KEY).start();
    const proxy = await env.toxiproxy.createProxy(proxyName, `127.0.0.1:${fcm.port}`);
    const redisUrl = await freshRedisUrl();
    redis = testRedis(redisUrl);
    ferret = await startFerretDB();
    world = await createWorld(env.authUrl, ['push1', 'push2', 'mail1', 'mail2']);
    // The real message service, writing chat:notify into the notification service's Redis.
    message = await startChild(
      {
        LOG_LEVEL: process.env['NOTIFY_TEST_LOG_LEVEL'] ?? 'silent',
        MONGO_URL: `mongodb://${ferret.host}:${ferret.port}/notifyhang`,
        REDIS_URL: redisUrl,
        AUTH_URL: env.authUrl,
        INTERNAL_API_TOKEN: INTERNAL_TOKEN,
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
        INSTANCE_ID: 'message-hang',
        // One sender sends ten messages a second here.
        SEND_RATE_PER_MIN: '100000',
        SEND_BURST: '100000',
        HTTP_RATE_PER_MIN: '100000',
      },
      messageMainJs,
    );
    app = await startInProcess(
      serviceEnv(
        { redisUrl, authUrl: env.authUrl, fcmUrl: `http://${proxy.listen}`, sendgridUrl: sendgrid.url },
        { PROVIDER_MAX_CONCURRENT: String(MAX_CONCURRENT), BREAKER_RESET_MS: '2000' },
      ),
    );
    tokens = [fcmToken('push1'), fcmToken('push2')];
    await settingsApi(app.service.url, world.members[0]!).registerDevice(tokens[0]!);
    await settingsApi(app.service.url, world.members[1]!).registerDevice(tokens[1]!);
  });

  after(async () => {
    await app?.service.shutdown('test done');
    message?.child.kill('SIGTERM');
    await message?.exited;
    redis?.disconnect();
    const env = await environment();
    await env.toxiproxy.deleteProxy(proxyName).catch(() => undefined);
    await Promise.all([fcm?.stop(), sendgrid?.stop(), ferret?.stop()]);
  });

  /** A chat message through the message service's API, timed. */
  async function send(body: string): Promise<Sent> {
    const sentAt = Date.now();
    const started = performance.now();
    const res = await fetch(`${message.url}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${world.sender.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channelId: world.channelId, clientMessageId: randomUUID(), body }),
    });
    const latencyMs = performance.now() - started;
    const text = await res.text();
    expect(res.status, text).to.equal(201);
    return {
      messageId: (JSON.parse(text) as { message: { id: string } }).message.id,
      sentAt,
      latencyMs,
    };
  }

  it('never slows message sends or e-mail, and loses no push', async () => {
    const env = await environment();
    const url = app.service.url;
    const mailsOf = (messages: readonly Sent[]) => {
      const ids = new Set(messages.map((m) => m.messageId));
      return sendgrid.sends().filter((m) => ids.has(m.messageId)).length;
    };

    // Baseline: FCM healthy.
    const baseline: Sent[] = [];
    for (let i = 0; i < 20; i++) {
      baseline.push(await send(`baseline ${i}`));
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitUntil(
      () => fcm.sends().length === 40 && mailsOf(baseline) === 40,
      20_000,
      'baseline deliveries',
    );

    // The hang: every byte towards FCM is dropped until the toxic goes.
    const toxic = await env.toxiproxy.addToxic(proxyName, {
      type: 'timeout',
      stream: 'upstream',
      attributes: { timeout: 0 },
    });
    const hangStarted = Date.now();
    const during: Sent[] = [];
    const liveness: number[] = [];
    let maxInFlight = 0;
    let nextProbe = 0;
    while (Date.now() - hangStarted < HANG_MS) {
      during.push(await send(`during the hang ${during.length}`));
      if (Date.now() >= nextProbe) {
        nextProbe = Date.now() + 500;
        const started = performance.now();
        expect((await fetch(`${url}/health/liveness`)).status).to.equal(200);
        liveness.push(performance.now() - started);
        maxInFlight = Math.max(
          maxInFlight,
          await metric(url, 'chat_notification_bulkhead_in_flight', { bulkhead: 'fcm' }),
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // Every e-mail of the hang goes out while FCM still hangs.
    await waitUntil(() => mailsOf(during) === during.length * 2, 15_000, 'the e-mails of the hang');
    const stillHanging = Date.now() - hangStarted;
    const fcmOpened = await metric(url, 'chat_notification_circuit_breaker_events_total', {
      breaker: 'fcm',
      event: 'open',
    });
    const fcmCallsDuringHang = fcm.requests.filter((r) => r.receivedAt >= hangStarted).length;
    const sentAt = new Map(during.map((m) => [m.messageId, m.sentAt]));
    const mailDelays = sendgrid
      .accepted()
      .filter((r) => sentAt.has((r.body as { custom_args: { messageId: string } }).custom_args.messageId))
      .map(
        (r) =>
          r.receivedAt -
          sentAt.get((r.body as { custom_args: { messageId: string } }).custom_args.messageId)!,
      );
    await env.toxiproxy.removeToxic(proxyName, toxic.name);

    // After the hang: every push exactly once, nothing dead-lettered, the stream drained.
    const all = [...baseline, ...during];
    await waitUntil(async () => (await unacknowledged(redis)) === 0, 60_000, 'the push backlog');
    const pushes = fcm
      .sends()
      .map((p) => `${p.token} ${p.messageId}`)
      .sort();
    expect(pushes).to.deep.equal(all.flatMap((m) => tokens.map((t) => `${t} ${m.messageId}`)).sort());
    expect(await redis.xlen('chat:notify:dead')).to.equal(0);

    const hangLatency = during.map((m) => m.latencyMs);
    console.log(`      message sends before the hang: ${summary(baseline.map((m) => m.latencyMs))}`);
    console.log(`      message sends during the hang: ${summary(hangLatency)}`);
    console.log(`      e-mail delay during the hang (send to SendGrid): ${summary(mailDelays)}`);
    console.log(`      notification liveness during the hang: ${summary(liveness)}`);
    console.log(
      `      FCM breaker opened ${fcmOpened}x, max FCM calls in flight ${maxInFlight}, hang lasted ${stillHanging} ms`,
    );

    expect(fcmOpened).to.be.at.least(1);
    expect(fcmCallsDuringHang, 'calls that reached FCM through the black hole').to.equal(0);
    expect(maxInFlight).to.be.at.most(MAX_CONCURRENT);
    expect(stillHanging).to.be.at.least(HANG_MS);
    // A send held up by the hang would take up to 30 000 ms (at least the 1 000 ms call timeout):
    // every send stays far below both, whatever else the machine is doing.
    expect(Math.max(...hangLatency), 'slowest message send during the hang (ms)').to.be.below(1_000);
  });
});
