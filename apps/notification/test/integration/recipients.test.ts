// Who is notified how: the sender never, users online never, then each user's settings (set
// through the settings API with a token from the real auth service): mode, muted channel, device,
// e-mail override. Also the API's own refusals.
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

describe('notification recipients and settings', function () {
  let fcm: FcmStandIn;
  let sendgrid: SendGridStandIn;
  let app: NotificationApp;
  let world: World;
  let redis: ReturnType<typeof testRedis>;

  before(async () => {
    const env = await environment();
    fcm = await new FcmStandIn(FCM_PROJECT, FCM_TOKEN).start();
    sendgrid = await new SendGridStandIn(SENDGRID_KEY).start();
    const redisUrl = await freshRedisUrl();
    redis = testRedis(redisUrl);
    world = await createWorld(env.authUrl, [
      'online',
      'muted',
      'none',
      'override',
      'pusher',
      'plain',
      'pushless',
    ]);
    app = await startInProcess(
      serviceEnv({ redisUrl, authUrl: env.authUrl, fcmUrl: fcm.url, sendgridUrl: sendgrid.url }),
    );
  });

  after(async () => {
    await app?.service.shutdown('test done');
    redis?.disconnect();
    await Promise.all([fcm?.stop(), sendgrid?.stop()]);
  });

  it('notifies offline members by their settings, and nobody else', async () => {
    const [online, muted, none, override, pusher, plain, pushless] = world.members;
    const url = app.service.url;
    await redis.set(`chat:presence:${online!.userId}`, 'message-0', 'EX', 60);
    await settingsApi(url, muted!).mute(world.channelId);
    await settingsApi(url, none!).update({ mode: 'none' });
    await settingsApi(url, override!).update({ mode: 'email', email: 'elsewhere@mail.test' });
    const pusherToken = fcmToken('pusher');
    const phone = await settingsApi(url, pusher!).registerDevice(pusherToken);
    const tablet = fcmToken('tablet');
    await settingsApi(url, pusher!).registerDevice(tablet, 'ios');
    await settingsApi(url, pushless!).update({ mode: 'push' });
    // The sender's own device must not ring for its own message.
    await settingsApi(url, world.sender).registerDevice(fcmToken('sender'));

    const message = await produceMessage(redis, world, 'lunch at noon?');
    await waitUntil(async () => (await unacknowledged(redis)) === 0, 15_000, 'the entry to be acknowledged');

    expect(
      fcm
        .sends()
        .map((s) => s.token)
        .sort(),
    ).to.deep.equal([pusherToken, tablet].sort());
    for (const send of fcm.sends()) {
      expect(send.messageId).to.equal(message.messageId);
      expect(send.title).to.equal(world.sender.displayName);
      expect(send.body).to.equal('lunch at noon?');
    }
    expect(new Set(fcm.sends().map((s) => s.collapseId)).size).to.equal(1);
    expect(
      sendgrid
        .sends()
        .map((s) => s.to)
        .sort(),
    ).to.deep.equal(['elsewhere@mail.test', plain!.email].sort());
    expect(sendgrid.sends()[0]!.text).to.contain('lunch at noon?');
    expect(fcm.requests.filter((r) => r.invalid)).to.deep.equal([]);
    expect(sendgrid.requests.filter((r) => r.invalid)).to.deep.equal([]);

    expect(await metric(url, 'chat_notification_sent_total', { provider: 'fcm' })).to.equal(2);
    expect(await metric(url, 'chat_notification_sent_total', { provider: 'sendgrid' })).to.equal(2);
    expect(await metric(url, 'chat_notification_skipped_total', { reason: 'online' })).to.equal(1);
    expect(await metric(url, 'chat_notification_skipped_total', { reason: 'muted' })).to.equal(1);
    expect(await metric(url, 'chat_notification_skipped_total', { reason: 'preference_none' })).to.equal(1);
    expect(await metric(url, 'chat_notification_skipped_total', { reason: 'no_device' })).to.equal(1);

    // The settings read back as set, without tokens.
    const settings = await settingsApi(url, pusher!).get();
    expect(settings.mode).to.equal('auto');
    expect(settings.devices.map((d) => d.id)).to.include(phone.id);
    expect(JSON.stringify(settings)).not.to.contain(pusherToken);
    expect((await settingsApi(url, muted!).get()).mutedChannels).to.deep.equal([world.channelId]);

    // A removed device is not notified any more.
    await settingsApi(url, pusher!).removeDevice(phone.id);
    const second = await produceMessage(redis, world, 'second');
    await waitUntil(async () => (await unacknowledged(redis)) === 0, 15_000, 'the second entry');
    const secondTokens = fcm
      .sends()
      .filter((s) => s.messageId === second.messageId)
      .map((s) => s.token);
    expect(secondTokens).to.deep.equal([tablet]);
  });

  it('refuses settings calls without a valid token or with bad input', async () => {
    const url = app.service.url;
    const anonymous = await fetch(`${url}/api/v1/me/notification-settings`);
    expect(anonymous.status).to.equal(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).to.equal('UNAUTHENTICATED');
    const forged = await fetch(`${url}/api/v1/me/notification-settings`, {
      headers: { authorization: 'Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln' },
    });
    expect(forged.status).to.equal(401);
    const user = world.members[0]!;
    const bad = await fetch(`${url}/api/v1/me/notification-settings`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'carrier-pigeon' }),
    });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).to.equal('VALIDATION_FAILED');
    const missing = await fetch(`${url}/api/v1/me/devices/0123456789abcdef`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    expect(missing.status).to.equal(404);
  });
});
