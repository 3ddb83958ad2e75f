// Retryable answers are retried, and a provider's Retry-After is obeyed: a short one by sleeping
// (instead of the much shorter backoff configured here), a long one by pausing every delivery to
// that provider while the entries wait in the stream. Connection resets (Toxiproxy) are retried too.
import { expect } from 'chai';
import type { NotificationApp } from '../../src/app.js';
import { FcmStandIn } from '../support/fcm-standin.js';
import { SendGridStandIn } from '../support/sendgrid-standin.js';
import { environment, freshRedisUrl } from './support/environment.js';
import { produceMessage } from './support/producer.js';
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

describe('retryable answers and Retry-After', function () {
  let fcm: FcmStandIn;
  let sendgrid: SendGridStandIn;
  let app: NotificationApp;
  let world: World;
  let redis: ReturnType<typeof testRedis>;
  const proxyName = 'notification-sendgrid-resets';

  before(async () => {
    const env = await environment();
    fcm = await new FcmStandIn(FCM_PROJECT, FCM_TOKEN).start();
    sendgrid = await new SendGridStandIn(SENDGRID_KEY).start();
    // SendGrid is reached through Toxiproxy so its connections can be reset.
    const proxy = await env.toxiproxy.createProxy(proxyName, `127.0.0.1:${sendgrid.port}`);
    const redisUrl = await freshRedisUrl();
    redis = testRedis(redisUrl);
    world = await createWorld(env.authUrl, ['pusher', 'mailer']);
    app = await startInProcess(
      serviceEnv(
        { redisUrl, authUrl: env.authUrl, fcmUrl: fcm.url, sendgridUrl: `http://${proxy.listen}` },
        // Backoff of a few ms: any wait of seconds can only come from Retry-After. No dead letters
        // from running out of tries in this file.
        { RETRY_DELAYS_MS: '10,10,10', RETRY_AFTER_MAX_MS: '2000', DELIVERY_MAX_TRIES: '1000' },
      ),
    );
    await settingsApi(app.service.url, world.members[0]!).registerDevice(fcmToken('pusher'));
  });

  after(async () => {
    await app?.service.shutdown('test done');
    redis?.disconnect();
    const env = await environment();
    await env.toxiproxy.deleteProxy(proxyName).catch(() => undefined);
    await Promise.all([fcm?.stop(), sendgrid?.stop()]);
  });

  it('sleeps a short Retry-After before the retry', async () => {
    sendgrid.next({
      kind: 'fail',
      status: 429,
      headers: { 'retry-after': '1' },
      message: 'too many requests',
    });
    const message = await produceMessage(redis, world, 'short wait');
    await sendgrid.waitFor(
      () => sendgrid.sends().some((m) => m.messageId === message.messageId),
      15_000,
      'the e-mail',
    );
    const calls = sendgrid.requests.filter(
      (r) =>
        (r.body as { custom_args?: { messageId?: string } }).custom_args?.messageId === message.messageId,
    );
    expect(calls.map((c) => c.status)).to.deep.equal([429, 202]);
    const waited = calls[1]!.receivedAt - calls[0]!.answeredAt!;
    expect(waited, 'ms between the 429 and the retry').to.be.at.least(990);
    expect(
      await metric(app.service.url, 'chat_notification_retry_attempts_total', {
        operation: 'sendgrid.send',
        outcome: 'retry',
      }),
    ).to.equal(1);
    expect(
      await metric(app.service.url, 'chat_notification_retried_total', { provider: 'sendgrid' }),
    ).to.equal(1);
    await waitUntil(async () => (await unacknowledged(redis)) === 0, 10_000, 'the entry to be acknowledged');
  });

  it('pauses the provider for a long Retry-After while entries wait in the stream', async () => {
    const sentBefore = fcm.requests.length;
    fcm.next({ kind: 'fail', status: 429, code: 'QUOTA_EXCEEDED', headers: { 'retry-after': '3' } });
    const first = await produceMessage(redis, world, 'long wait');
    await fcm.waitFor(() => fcm.requests.length === sentBefore + 1, 10_000, 'the throttled call');
    const throttledAt = fcm.requests[sentBefore]!.answeredAt!;
    // Produced during the pause: it must not be sent before the pause ends either.
    const second = await produceMessage(redis, world, 'during the pause');
    await fcm.waitFor(
      () =>
        fcm.sends().filter((p) => p.messageId === first.messageId || p.messageId === second.messageId)
          .length === 2,
      15_000,
      'both pushes',
    );
    const after = fcm.requests.slice(sentBefore + 1);
    expect(after.every((r) => r.status === 200)).to.equal(true);
    for (const r of after) expect(r.receivedAt - throttledAt, 'ms after the 429').to.be.at.least(2990);
    expect(after).to.have.length(2);
    // Nothing was given up on: the pause is not a failure of the notification.
    expect(await redis.xlen('chat:notify:dead')).to.equal(0);
    await waitUntil(
      async () => (await unacknowledged(redis)) === 0,
      10_000,
      'the entries to be acknowledged',
    );
  });

  it('retries through connection resets and sends once', async () => {
    const env = await environment();
    const retriesBefore = await metric(app.service.url, 'chat_notification_retry_attempts_total', {
      operation: 'sendgrid.send',
      outcome: 'retry',
    });
    const toxic = await env.toxiproxy.addToxic(proxyName, {
      type: 'reset_peer',
      stream: 'upstream',
      attributes: { timeout: 0 },
    });
    const message = await produceMessage(redis, world, 'through resets');
    await waitUntil(
      async () =>
        (await metric(app.service.url, 'chat_notification_retry_attempts_total', {
          operation: 'sendgrid.send',
          outcome: 'retry',
        })) >=
        retriesBefore + 2,
      10_000,
      'two retries after resets',
    );
    await env.toxiproxy.removeToxic(proxyName, toxic.name);
    await sendgrid.waitFor(
      () => sendgrid.sends().some((m) => m.messageId === message.messageId),
      15_000,
      'the e-mail',
    );
    await waitUntil(async () => (await unacknowledged(redis)) === 0, 10_000, 'the entry to be acknowledged');
    expect(sendgrid.sends().filter((m) => m.messageId === message.messageId)).to.have.length(1);
    expect(await redis.xlen('chat:notify:dead')).to.equal(0);
  });
});
