// What cannot be delivered is dead-lettered with its reason and the history of its calls, instead
// of blocking the stream or crashing the service: malformed entries, unknown types and senders,
// notifications a provider refuses (4xx), and deliveries whose retries ran out. Operators list,
// replay and purge them with chatcluster-notify-dlq; a replay goes through the stream again.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { NotificationApp } from '../../src/app.js';
import type { DeadLetter } from '../../src/deadletter/dead-letters.js';
import { compareIds } from '../../src/stream/stream-ids.js';
import { FcmStandIn } from '../support/fcm-standin.js';
import { SendGridStandIn } from '../support/sendgrid-standin.js';
import { runDlqCli } from './support/cli.js';
import { environment, freshRedisUrl } from './support/environment.js';
import { addRawEntry, produceMessage } from './support/producer.js';
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

async function listJson(redisUrl: string, ...args: string[]): Promise<DeadLetter[]> {
  const result = await runDlqCli(redisUrl, ['list', '--json', ...args]);
  expect(result.code, result.stderr).to.equal(0);
  return JSON.parse(result.stdout) as DeadLetter[];
}

describe('dead letters', function () {
  let fcm: FcmStandIn;
  let sendgrid: SendGridStandIn;
  let app: NotificationApp;
  let world: World;
  let redis: ReturnType<typeof testRedis>;
  let redisUrl: string;

  before(async () => {
    const env = await environment();
    fcm = await new FcmStandIn(FCM_PROJECT, FCM_TOKEN).start();
    sendgrid = await new SendGridStandIn(SENDGRID_KEY).start();
    redisUrl = await freshRedisUrl();
    redis = testRedis(redisUrl);
    world = await createWorld(env.authUrl, ['stale-phone', 'bad-mail', 'fine']);
    app = await startInProcess(
      serviceEnv(
        { redisUrl, authUrl: env.authUrl, fcmUrl: fcm.url, sendgridUrl: sendgrid.url },
        // Failures of the third test must exhaust tries, not open the breaker.
        { DELIVERY_MAX_TRIES: '2', BREAKER_CONSECUTIVE_FAILURES: '1000', BREAKER_VOLUME_THRESHOLD: '1000' },
      ),
    );
  });

  after(async () => {
    await app?.service.shutdown('test done');
    redis?.disconnect();
    await Promise.all([fcm?.stop(), sendgrid?.stop()]);
  });

  it('dead-letters bad events with a reason and keeps serving', async () => {
    const good = {
      type: 'message.created',
      messageId: randomUUID(),
      channelId: world.channelId,
      seq: '1',
      senderId: world.sender.userId,
      preview: 'hi',
      createdAt: new Date().toISOString(),
    };
    await addRawEntry(redis, { type: 'message.created', channelId: world.channelId });
    await addRawEntry(redis, { ...good, messageId: randomUUID(), channelId: 'not-a-uuid' });
    await addRawEntry(redis, { ...good, messageId: randomUUID(), seq: 'seven' });
    await addRawEntry(redis, { ...good, messageId: randomUUID(), type: 'message.exploded' });
    await addRawEntry(redis, { ...good, messageId: randomUUID(), senderId: randomUUID() });
    await addRawEntry(redis, { payload: '{"not": "an entry"' });
    const fine = await produceMessage(redis, world, 'after the bad ones');
    await waitUntil(
      async () => (await unacknowledged(redis)) === 0,
      15_000,
      'every entry to be acknowledged',
    );

    // Entries are processed concurrently: put the letters back in stream order.
    const letters = (await listJson(redisUrl)).sort((a, b) => compareIds(a.entryId, b.entryId));
    expect(letters.map((l) => l.reason)).to.deep.equal([
      'malformed',
      'malformed',
      'malformed',
      'unsupported_type',
      'unknown_sender',
      'malformed',
    ]);
    expect(letters.every((l) => l.kind === 'event' && l.provider === 'none' && l.entryId !== '')).to.equal(
      true,
    );
    expect(letters[0]!.error).to.contain('messageId');
    expect(letters[1]!.error).to.contain('channelId');
    expect(letters[2]!.error).to.contain('seq');
    expect(letters[4]!.error).to.contain('not a member');
    expect(letters[5]!.error).to.contain('type: required');
    expect(JSON.parse(letters[5]!.fields['raw']!)).to.deep.equal({ payload: '{"not": "an entry"' });
    expect(
      await metric(app.service.url, 'chat_notification_dead_lettered_total', {
        provider: 'none',
        reason: 'malformed',
      }),
    ).to.equal(4);

    // The good entry after them went out, and the service is healthy.
    expect(sendgrid.sends().filter((m) => m.messageId === fine.messageId)).to.have.length(3);
    const readiness = await fetch(`${app.service.url}/health/readiness`);
    expect(readiness.status).to.equal(200);
    expect(((await readiness.json()) as { status: string }).status).to.equal('ok');

    // Operators purge what cannot be fixed; replay needs a selector.
    const refused = await runDlqCli(redisUrl, ['replay']);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.contain('needs a selector');
    const purged = await runDlqCli(redisUrl, ['purge', '--kind', 'event']);
    expect(purged.stdout).to.contain('purged 6');
    expect(await redis.xlen('chat:notify:dead')).to.equal(0);
  });

  it('dead-letters what a provider refuses after one call, and replays it once fixed', async () => {
    const [stalePhone, badMail] = world.members;
    const token = fcmToken('stale');
    await settingsApi(app.service.url, stalePhone!).registerDevice(token);
    fcm.unregistered.add(token);
    await settingsApi(app.service.url, badMail!).update({ mode: 'email', email: 'bounce@mail.test' });
    sendgrid.invalidAddresses.add('bounce@mail.test');

    const message = await produceMessage(redis, world, 'will be refused');
    await waitUntil(async () => (await unacknowledged(redis)) === 0, 15_000, 'the entry to be acknowledged');

    const letters = await listJson(redisUrl, '--reason', 'rejected');
    const push = letters.find((l) => l.provider === 'fcm')!;
    const mail = letters.find((l) => l.provider === 'sendgrid')!;
    expect(letters).to.have.length(2);
    expect(push.code).to.equal('UNREGISTERED');
    expect(push.attempts.map((a) => a.status)).to.deep.equal([404]);
    expect(push.recipient).to.equal(stalePhone!.userId);
    expect(mail.code).to.equal('personalizations.0.to.0.email');
    expect(mail.attempts.map((a) => a.status)).to.deep.equal([400]);
    expect(mail.messageId).to.equal(message.messageId);
    // An unregistered token is dropped from the user's devices.
    expect((await settingsApi(app.service.url, stalePhone!).get()).devices).to.deep.equal([]);
    // Refusals are about the notification, not the provider: no failure against the SLI.
    expect(await metric(app.service.url, 'chat_notification_failed_total')).to.equal(0);

    // The user fixes the address; the operator replays the e-mail.
    await settingsApi(app.service.url, badMail!).update({ email: 'fixed@mail.test' });
    const replayed = await runDlqCli(redisUrl, ['replay', '--id', mail.id]);
    expect(replayed.code, replayed.stderr).to.equal(0);
    expect(replayed.stdout).to.contain('replayed 1');
    await sendgrid.waitFor(
      () => sendgrid.sends().some((m) => m.to === 'fixed@mail.test'),
      15_000,
      'the replayed e-mail',
    );
    await waitUntil(async () => (await unacknowledged(redis)) === 0, 15_000, 'the replay to be acknowledged');
    const replayedMails = sendgrid.sends().filter((m) => m.messageId === message.messageId);
    // Only the replayed delivery went out again: the recipients sent the first time were not.
    expect(replayedMails.map((m) => m.to).sort()).to.deep.equal(
      [world.members[2]!.email, 'fixed@mail.test'].sort(),
    );
    expect((await listJson(redisUrl)).map((l) => l.id)).to.deep.equal([push.id]);

    // Replaying the push finds no device any more: acknowledged, nothing sent, not dead-lettered again.
    await runDlqCli(redisUrl, ['replay', '--provider', 'fcm']);
    await waitUntil(
      async () => (await unacknowledged(redis)) === 0 && (await redis.xlen('chat:notify')) > 0,
      15_000,
      'the push replay',
    );
    expect(
      fcm.requests.filter((r) => (r.body as { message: { token: string } }).message.token === token),
    ).to.have.length(1);
    expect(await redis.xlen('chat:notify:dead')).to.equal(0);
  });

  it('dead-letters deliveries whose retries ran out, with every call, and replays them', async () => {
    sendgrid.always({ kind: 'fail', status: 500, message: 'internal error' });
    const only = world.members[2]!;
    const message = await produceMessage(redis, world, 'provider keeps failing');
    await waitUntil(async () => (await redis.xlen('chat:notify:dead')) >= 2, 20_000, 'dead letters');
    await waitUntil(async () => (await unacknowledged(redis)) === 0, 15_000, 'the entry to be acknowledged');

    const letters = await listJson(redisUrl, '--reason', 'retries_exhausted');
    const mine = letters.find((l) => l.recipient === only.userId)!;
    // Two tries (DELIVERY_MAX_TRIES) of four calls each (first call and PROVIDER_RETRIES=3).
    expect(mine.attempts.map((a) => a.status)).to.deep.equal(Array(8).fill(500));
    expect(mine.attempts.every((a) => a.outcome === 'failed')).to.equal(true);
    expect(mine.messageId).to.equal(message.messageId);
    const text = await runDlqCli(redisUrl, ['list', '--reason', 'retries_exhausted']);
    expect(text.stdout).to.contain(mine.id).and.to.contain('calls=8');

    sendgrid.always({ kind: 'answer' });
    const replayed = await runDlqCli(redisUrl, ['replay', '--reason', 'retries_exhausted']);
    expect(replayed.stdout).to.contain(`replayed ${letters.length}`);
    await waitUntil(
      async () => (await unacknowledged(redis)) === 0 && (await redis.xlen('chat:notify:dead')) === 0,
      15_000,
      'the replays',
    );
    expect(
      sendgrid.sends().filter((m) => m.messageId === message.messageId && m.to === only.email),
    ).to.have.length(1);
  });
});
