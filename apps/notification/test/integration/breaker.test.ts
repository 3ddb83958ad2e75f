// A provider outage is that provider's problem only: FCM answering 500 opens FCM's breaker after
// five failures in a row while SendGrid keeps sending, and the push notifications wait in the
// stream (none dropped, none dead-lettered). When FCM recovers the breaker half-opens, its trial
// succeeds, it closes, and the backlog goes out exactly once.
import { expect } from 'chai';
import type { NotificationApp } from '../../src/app.js';
import { FcmStandIn } from '../support/fcm-standin.js';
import { SendGridStandIn } from '../support/sendgrid-standin.js';
import { environment, freshRedisUrl } from './support/environment.js';
import { produceMessage, type ProducedMessage } from './support/producer.js';
import {
  FCM_PROJECT,
  FCM_TOKEN,
  SENDGRID_KEY,
  metric,
  serviceEnv,
  startInProcess,
  testRedis,
  unacknowledged,
  waitUntil,
} from './support/service.js';
import { createWorld, fcmToken, settingsApi, type World } from './support/world.js';

interface Setup {
  app: NotificationApp;
  fcm: FcmStandIn;
  sendgrid: SendGridStandIn;
  world: World;
  redis: ReturnType<typeof testRedis>;
  tokens: string[];
  emails: string[];
}

/** Two push users and two e-mail users; one provider call at a time, so the call count is exact. */
async function setUp(overrides: Record<string, string>): Promise<Setup> {
  const env = await environment();
  const fcm = await new FcmStandIn(FCM_PROJECT, FCM_TOKEN).start();
  const sendgrid = await new SendGridStandIn(SENDGRID_KEY).start();
  const redisUrl = await freshRedisUrl();
  const redis = testRedis(redisUrl);
  const world = await createWorld(env.authUrl, ['push1', 'push2', 'mail1', 'mail2']);
  const app = await startInProcess(
    serviceEnv(
      { redisUrl, authUrl: env.authUrl, fcmUrl: fcm.url, sendgridUrl: sendgrid.url },
      { PROVIDER_MAX_CONCURRENT: '1', ...overrides },
    ),
  );
  const tokens = [fcmToken('push1'), fcmToken('push2')];
  await settingsApi(app.service.url, world.members[0]!).registerDevice(tokens[0]!);
  await settingsApi(app.service.url, world.members[1]!).registerDevice(tokens[1]!);
  return {
    app,
    fcm,
    sendgrid,
    world,
    redis,
    tokens,
    emails: [world.members[2]!.email, world.members[3]!.email],
  };
}

async function tearDown(s: Setup | undefined): Promise<void> {
  if (!s) return;
  await s.app.service.shutdown('test done');
  s.redis.disconnect();
  await Promise.all([s.fcm.stop(), s.sendgrid.stop()]);
}

/** "token messageId" pairs, sorted, for exact comparisons. */
function pushPairs(s: Setup, messages: readonly ProducedMessage[]): string[] {
  return messages.flatMap((m) => s.tokens.map((t) => `${t} ${m.messageId}`)).sort();
}

describe('provider outage: per-provider breaker', function () {
  describe('FCM answering 500', function () {
    let s: Setup;
    before(async () => {
      // The breaker stays open for the whole test: no trial call muddies the count.
      s = await setUp({ BREAKER_RESET_MS: '60000' });
    });
    after(() => tearDown(s));

    it('opens the FCM breaker after 5 failures while SendGrid keeps sending', async () => {
      s.fcm.always({ kind: 'fail', status: 500, code: 'INTERNAL' });
      const url = s.app.service.url;
      const before = [
        await produceMessage(s.redis, s.world, 'one'),
        await produceMessage(s.redis, s.world, 'two'),
      ];
      await waitUntil(
        async () => (await metric(url, 'chat_notification_circuit_breaker_state', { breaker: 'fcm' })) === 2,
        15_000,
        'the FCM breaker to open',
      );
      // Produced while FCM's breaker is open: e-mail must still go out.
      const during: ProducedMessage[] = [];
      for (let i = 0; i < 5; i++) during.push(await produceMessage(s.redis, s.world, `during ${i}`));
      const all = [...before, ...during];
      await s.sendgrid.waitFor(() => s.sendgrid.sends().length === all.length * 2, 15_000, 'every e-mail');

      // Exactly five calls reached FCM: the fifth consecutive failure opened the breaker.
      expect(s.fcm.requests).to.have.length(5);
      expect(s.fcm.requests.every((r) => r.status === 500)).to.equal(true);
      expect(
        s.sendgrid
          .sends()
          .map((m) => `${m.to} ${m.messageId}`)
          .sort(),
      ).to.deep.equal(all.flatMap((m) => s.emails.map((e) => `${e} ${m.messageId}`)).sort());
      expect(await metric(url, 'chat_notification_circuit_breaker_state', { breaker: 'sendgrid' })).to.equal(
        0,
      );
      expect(
        await metric(url, 'chat_notification_circuit_breaker_events_total', {
          breaker: 'fcm',
          event: 'open',
        }),
      ).to.equal(1);
      expect(await metric(url, 'chat_notification_sent_total', { provider: 'sendgrid' })).to.equal(
        all.length * 2,
      );
      expect(await metric(url, 'chat_notification_sent_total', { provider: 'fcm' })).to.equal(0);
      expect(await metric(url, 'chat_notification_failed_total', { provider: 'fcm' })).to.be.greaterThan(0);
      expect(await metric(url, 'chat_notification_retried_total', { provider: 'fcm' })).to.be.greaterThan(0);

      // The push notifications wait in the stream: every entry still pending, nothing dead-lettered.
      await waitUntil(
        async () => (await metric(url, 'chat_notification_stream_pending')) === all.length,
        5_000,
        'the lag metric to show the waiting entries',
      );
      expect(await unacknowledged(s.redis)).to.equal(all.length);
      expect(await metric(url, 'chat_notification_stream_oldest_pending_seconds')).to.be.greaterThan(0);
      expect(await s.redis.xlen('chat:notify:dead')).to.equal(0);
    });
  });

  describe('FCM recovering', function () {
    let s: Setup;
    before(async () => {
      s = await setUp({ BREAKER_RESET_MS: '1000' });
    });
    after(() => tearDown(s));

    it('half-opens, re-opens on a failed trial, then closes and sends the backlog exactly once', async () => {
      s.fcm.always({ kind: 'fail', status: 503, code: 'UNAVAILABLE' });
      const url = s.app.service.url;
      const events = (event: string) =>
        metric(url, 'chat_notification_circuit_breaker_events_total', { breaker: 'fcm', event });
      const messages: ProducedMessage[] = [];
      for (let i = 0; i < 4; i++) messages.push(await produceMessage(s.redis, s.world, `backlog ${i}`));
      // A trial while FCM still fails sends the breaker back to open.
      await waitUntil(async () => (await events('open')) >= 2, 15_000, 'a failed half-open trial');
      expect(await events('halfOpen')).to.be.at.least(1);
      expect(await events('close')).to.equal(0);
      const callsWhileDown = s.fcm.requests.length;

      s.fcm.always({ kind: 'answer' });
      await waitUntil(async () => (await events('close')) >= 1, 15_000, 'the breaker to close');
      await waitUntil(async () => (await unacknowledged(s.redis)) === 0, 15_000, 'the backlog to be sent');

      // Each push went out once, and only after FCM answered again.
      expect(
        s.fcm
          .sends()
          .map((p) => `${p.token} ${p.messageId}`)
          .sort(),
      ).to.deep.equal(pushPairs(s, messages));
      expect(s.fcm.requests.slice(callsWhileDown).every((r) => r.status === 200)).to.equal(true);
      expect(await metric(url, 'chat_notification_circuit_breaker_state', { breaker: 'fcm' })).to.equal(0);
      expect(s.sendgrid.sends()).to.have.length(messages.length * 2);
      expect(await s.redis.xlen('chat:notify:dead')).to.equal(0);
      await waitUntil(
        async () => (await metric(url, 'chat_notification_stream_pending')) === 0,
        5_000,
        'the lag metric to drop to zero',
      );
    });
  });
});
