// FCM with a service account: the service exchanges a signed JWT for an access token at the (stand-in)
// OAuth endpoint, refreshes it before it expires, and when FCM refuses a token (401: revoked, or
// expired early) fetches a new one and resends once, so the push goes out and the breaker never
// hears of it. A second 401 in a row is our credentials: no loop, an ordinary failure.
import { expect } from 'chai';
import type { NotificationApp } from '../../src/app.js';
import { FcmStandIn } from '../support/fcm-standin.js';
import { GoogleOAuthStandIn } from '../support/google-oauth-standin.js';
import { SendGridStandIn } from '../support/sendgrid-standin.js';
import { environment, freshRedisUrl } from './support/environment.js';
import { produceMessage } from './support/producer.js';
import {
  FCM_PROJECT,
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
  oauth: GoogleOAuthStandIn;
  fcm: FcmStandIn;
  sendgrid: SendGridStandIn;
  world: World;
  redis: ReturnType<typeof testRedis>;
}

async function setUp(): Promise<Setup> {
  const env = await environment();
  const oauth = await new GoogleOAuthStandIn().start();
  const fcm = await new FcmStandIn(FCM_PROJECT, oauth).start();
  const sendgrid = await new SendGridStandIn(SENDGRID_KEY).start();
  const redisUrl = await freshRedisUrl();
  const redis = testRedis(redisUrl);
  const world = await createWorld(env.authUrl, ['push1']);
  const vars = serviceEnv(
    { redisUrl, authUrl: env.authUrl, fcmUrl: fcm.url, sendgridUrl: sendgrid.url },
    {
      PROVIDER_MAX_CONCURRENT: '1',
      FCM_SERVICE_ACCOUNT_CREDENTIALS: JSON.stringify(oauth.serviceAccountKey()),
    },
  );
  delete vars['FCM_ACCESS_TOKEN'];
  const app = await startInProcess(vars);
  await settingsApi(app.service.url, world.members[0]!).registerDevice(fcmToken('push1'));
  return { app, oauth, fcm, sendgrid, world, redis };
}

const bearers = (s: Setup): string[] =>
  s.fcm.requests.map((r) => /^Bearer (.+)$/.exec(r.headers.authorization ?? '')?.[1] ?? '');
const statuses = (s: Setup): (number | undefined)[] => s.fcm.requests.map((r) => r.status);

/** Produces a message and waits until its push was answered 200 and its entry acknowledged. */
async function pushOne(s: Setup, text: string): Promise<void> {
  const sent = s.fcm.sends().length;
  await produceMessage(s.redis, s.world, text);
  await s.fcm.waitFor(() => s.fcm.sends().length === sent + 1, 10_000, `the push of "${text}"`);
  await waitUntil(async () => (await unacknowledged(s.redis)) === 0, 5_000, 'the entry to be acknowledged');
}

describe('FCM OAuth tokens from a service account', function () {
  this.timeout(60_000);
  let s: Setup;
  beforeEach(async () => {
    s = await setUp();
  });
  afterEach(async () => {
    if (!s) return;
    await s.app.service.shutdown('test done');
    s.redis.disconnect();
    await Promise.all([s.fcm.stop(), s.sendgrid.stop(), s.oauth.stop()]);
  });

  it('sends with an exchanged token and reuses it while it is fresh', async () => {
    await pushOne(s, 'one');
    await pushOne(s, 'two');
    expect(s.oauth.exchanges.map((e) => e.refused)).to.deep.equal([undefined]);
    expect(bearers(s)).to.deep.equal([s.oauth.issued()[0], s.oauth.issued()[0]]);
  });

  it('on a 401 fetches a new token and resends once, without counting a failure or opening the breaker', async () => {
    await pushOne(s, 'before');
    s.oauth.expireAll();
    await pushOne(s, 'after the token died');

    const [first, second] = s.oauth.issued();
    expect(s.oauth.issued()).to.have.length(2);
    expect(statuses(s)).to.deep.equal([200, 401, 200]);
    expect(bearers(s)).to.deep.equal([first, first, second]);
    const url = s.app.service.url;
    expect(await metric(url, 'chat_notification_failed_total', { provider: 'fcm' })).to.equal(0);
    expect(await metric(url, 'chat_notification_retried_total', { provider: 'fcm' })).to.equal(0);
    expect(await metric(url, 'chat_notification_circuit_breaker_state', { breaker: 'fcm' })).to.equal(0);
    expect(await metric(url, 'chat_notification_sent_total', { provider: 'fcm' })).to.equal(2);
  });

  it('refreshes a token before it expires, so no send meets a 401', async () => {
    // 2 s tokens are replaced after half their life.
    s.oauth.lifetimeSeconds = 2;
    await pushOne(s, 'one');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await pushOne(s, 'two, after the refresh point');

    expect(s.oauth.issued()).to.have.length(2);
    expect(statuses(s)).to.deep.equal([200, 200]);
    expect(bearers(s)).to.deep.equal(s.oauth.issued());
  });

  it('retries a 401 only once per call: a second 401 is an ordinary credentials failure', async () => {
    s.fcm.next({ kind: 'fail', status: 401 }, { kind: 'fail', status: 401 });
    await pushOne(s, 'refused twice, then sent on the delivery retry');

    // One call: 401, new token, 401, given up. The delivery's retry then sends with that token.
    expect(statuses(s)).to.deep.equal([401, 401, 200]);
    expect(s.oauth.issued()).to.have.length(2);
    expect(bearers(s)).to.deep.equal([s.oauth.issued()[0], s.oauth.issued()[1], s.oauth.issued()[1]]);
    expect(await metric(s.app.service.url, 'chat_notification_sent_total', { provider: 'fcm' })).to.equal(1);
  });
});
