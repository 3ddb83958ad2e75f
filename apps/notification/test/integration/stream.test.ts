// The stream side against real Redis: entries a dead consumer left pending are taken over with
// XAUTOCLAIM and sent once; trimming by age (XTRIM MINID) removes acknowledged entries only, never
// one that is unread or pending, however old; and while a provider is down the waiting entries
// outlive the retention.
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { NotificationApp } from '../../src/app.js';
import { DeadLetters } from '../../src/deadletter/dead-letters.js';
import { StreamTrimmer } from '../../src/stream/trimmer.js';
import { createLogger } from '@chatcluster/kit';
import { FcmStandIn } from '../support/fcm-standin.js';
import { SendGridStandIn } from '../support/sendgrid-standin.js';
import { environment, freshRedisUrl } from './support/environment.js';
import { produceMessage, type ProducedMessage } from './support/producer.js';
import {
  FCM_PROJECT,
  FCM_TOKEN,
  SENDGRID_KEY,
  serviceEnv,
  startInProcess,
  testRedis,
  unacknowledged,
  waitUntil,
} from './support/service.js';
import { createWorld, fcmToken, settingsApi, type World } from './support/world.js';

const HOUR = 3_600_000;

async function ids(redis: Redis): Promise<string[]> {
  return (await redis.xrange('chat:notify', '-', '+')).map(([id]) => id);
}

describe('the chat:notify stream', function () {
  let fcm: FcmStandIn;
  let sendgrid: SendGridStandIn;
  let world: World;
  let authUrl: string;
  const opened: { app?: NotificationApp; redis?: Redis }[] = [];

  before(async () => {
    authUrl = (await environment()).authUrl;
    fcm = await new FcmStandIn(FCM_PROJECT, FCM_TOKEN).start();
    sendgrid = await new SendGridStandIn(SENDGRID_KEY).start();
    world = await createWorld(authUrl, ['pusher', 'mailer']);
  });

  afterEach(async () => {
    for (const { app, redis } of opened.splice(0)) {
      await app?.service.shutdown('test done');
      redis?.disconnect();
    }
    fcm.always({ kind: 'answer' });
  });

  after(() => Promise.all([fcm?.stop(), sendgrid?.stop()]));

  it('takes over entries a dead consumer left pending and sends each once', async () => {
    const redisUrl = await freshRedisUrl();
    const redis = testRedis(redisUrl);
    opened.push({ redis });
    await redis.xgroup('CREATE', 'chat:notify', 'notification', '0', 'MKSTREAM');
    const messages: ProducedMessage[] = [];
    for (let i = 0; i < 5; i++) messages.push(await produceMessage(redis, world, `orphan ${i}`));
    // A consumer reads them and dies without acknowledging.
    const read = (await redis.xreadgroup(
      'GROUP',
      'notification',
      'ghost',
      'COUNT',
      5,
      'STREAMS',
      'chat:notify',
      '>',
    )) as [string, unknown[]][];
    expect(read[0]![1]).to.have.length(5);

    const app = await startInProcess(
      serviceEnv(
        { redisUrl, authUrl, fcmUrl: fcm.url, sendgridUrl: sendgrid.url },
        { CLAIM_IDLE_MS: '1000', INSTANCE_ID: 'survivor' },
      ),
    );
    opened.push({ app });
    await waitUntil(async () => (await unacknowledged(redis)) === 0, 15_000, 'the orphans to be sent');
    const mine = new Set(messages.map((m) => m.messageId));
    const mails = sendgrid.sends().filter((m) => mine.has(m.messageId));
    expect(mails.map((m) => `${m.to} ${m.messageId}`).sort()).to.deep.equal(
      messages
        .flatMap((m) => [world.members[0]!.email, world.members[1]!.email].map((e) => `${e} ${m.messageId}`))
        .sort(),
    );
    const consumers = (await redis.xinfo('CONSUMERS', 'chat:notify', 'notification')) as unknown[][];
    const ghost = consumers.find((c) => c[1] === 'ghost')!;
    expect(ghost[ghost.indexOf('pending') + 1]).to.equal(0);
  });

  it('trims acknowledged entries by age and keeps unread and pending ones, however old', async () => {
    const redisUrl = await freshRedisUrl();
    const redis = testRedis(redisUrl);
    opened.push({ redis });
    const now = Date.now();
    const old = Array.from({ length: 6 }, (_, i) => `${now - 48 * HOUR + i}-0`);
    const recent = Array.from({ length: 2 }, (_, i) => `${now - 1000 + i}-0`);
    for (const id of [...old, ...recent]) await redis.xadd('chat:notify', id, 'type', 'message.created');
    const trimmer = new StreamTrimmer({
      redis,
      stream: 'chat:notify',
      retentionMs: 24 * HOUR,
      intervalMs: HOUR,
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    // No group yet: nobody has read anything, so nothing may go.
    expect(await trimmer.trim(now)).to.equal(0);

    await redis.xgroup('CREATE', 'chat:notify', 'notification', '0');
    await redis.xreadgroup('GROUP', 'notification', 'c1', 'COUNT', 4, 'STREAMS', 'chat:notify', '>');
    await redis.xack('chat:notify', 'notification', old[0]!, old[1]!, old[3]!);
    // old[2] is pending, old[4..5] and the recent ones are unread.
    expect(await trimmer.trim(now)).to.equal(2);
    expect(await ids(redis)).to.deep.equal([...old.slice(2), ...recent]);

    await redis.xack('chat:notify', 'notification', old[2]!);
    await redis.xreadgroup('GROUP', 'notification', 'c1', 'COUNT', 2, 'STREAMS', 'chat:notify', '>');
    await redis.xack('chat:notify', 'notification', old[4]!, old[5]!);
    // Everything old is acknowledged; the last delivered one is kept as the group's position.
    await trimmer.trim(now);
    expect(await ids(redis)).to.deep.equal([old[5]!, ...recent]);

    await redis.xreadgroup('GROUP', 'notification', 'c1', 'COUNT', 2, 'STREAMS', 'chat:notify', '>');
    await redis.xack('chat:notify', 'notification', ...recent);
    await trimmer.trim(now);
    // Acknowledged but younger than the retention: kept.
    expect(await ids(redis)).to.deep.equal(recent);

    // Dead letters have their own retention.
    const deadLetters = new DeadLetters(redis, { stream: 'chat:notify', deadStream: 'chat:notify:dead' });
    await redis.xadd('chat:notify:dead', `${now - 20 * 24 * HOUR}-0`, 'kind', 'event', 'reason', 'malformed');
    await redis.xadd('chat:notify:dead', `${now - HOUR}-0`, 'kind', 'event', 'reason', 'malformed');
    expect(await deadLetters.trim(14 * 24 * HOUR)).to.equal(1);
    expect(await redis.xlen('chat:notify:dead')).to.equal(1);
  });

  it('keeps entries waiting for a provider past the retention, and trims the rest', async () => {
    const redisUrl = await freshRedisUrl();
    const redis = testRedis(redisUrl);
    const app = await startInProcess(
      serviceEnv(
        { redisUrl, authUrl, fcmUrl: fcm.url, sendgridUrl: sendgrid.url },
        { STREAM_RETENTION_MS: '1000', TRIM_INTERVAL_MS: '200', BREAKER_RESET_MS: '60000' },
      ),
    );
    opened.push({ app, redis });
    await settingsApi(app.service.url, world.members[0]!).registerDevice(fcmToken('retention'));
    for (let i = 0; i < 3; i++) await produceMessage(redis, world, `delivered ${i}`);
    await waitUntil(async () => (await unacknowledged(redis)) === 0, 15_000, 'the first messages');

    fcm.always({ kind: 'fail', status: 503 });
    const waiting: ProducedMessage[] = [];
    for (let i = 0; i < 3; i++) waiting.push(await produceMessage(redis, world, `waiting ${i}`));
    // The delivered ones go once they are older than the retention...
    await waitUntil(
      async () => (await redis.xlen('chat:notify')) === 3,
      15_000,
      'the delivered entries to be trimmed',
    );
    expect(await ids(redis)).to.deep.equal(waiting.map((m) => m.entryId));
    // ...the waiting ones stay, well past it.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await ids(redis)).to.deep.equal(waiting.map((m) => m.entryId));
    expect(await unacknowledged(redis)).to.equal(3);
  });
});
