// Providers are optional (a minimal ChatCluster configures none): a service without SendGrid starts,
// says so once in its log, in readiness (still ready) and in a gauge, keeps its settings API and
// pushes working, and dead-letters the e-mails it cannot send as provider_not_configured, from
// where a replay sends them once SendGrid is configured. Partial credentials stop the process.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { startNotification, type NotificationApp } from '../../src/app.js';
import { FcmStandIn } from '../support/fcm-standin.js';
import { SendGridStandIn } from '../support/sendgrid-standin.js';
import { runDlqCli } from './support/cli.js';
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

const mainJs = join(dirname(fileURLToPath(import.meta.url)), '../../src/main.js');

/** The test environment without any SendGrid variable. */
function withoutSendGrid(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('SENDGRID_')));
}

interface Readiness {
  status: string;
  checks: Record<string, { ok: boolean; detail?: string; error?: string }>;
}

describe('optional providers', function () {
  let fcm: FcmStandIn;
  let sendgrid: SendGridStandIn;
  let app: NotificationApp | undefined;
  let world: World;
  let redis: ReturnType<typeof testRedis>;
  let redisUrl: string;
  let authUrl: string;
  const logLines: { msg?: string; provider?: string; level?: number }[] = [];

  before(async () => {
    authUrl = (await environment()).authUrl;
    fcm = await new FcmStandIn(FCM_PROJECT, FCM_TOKEN).start();
    sendgrid = await new SendGridStandIn(SENDGRID_KEY).start();
    redisUrl = await freshRedisUrl();
    redis = testRedis(redisUrl);
    world = await createWorld(authUrl, ['pusher', 'mailer', 'overrider']);
    const env = serviceEnv({ redisUrl, authUrl, fcmUrl: fcm.url, sendgridUrl: sendgrid.url });
    app = await startNotification({
      env: { ...withoutSendGrid(env), LOG_LEVEL: 'info' },
      host: '127.0.0.1',
      handleSignals: false,
      logDestination: { write: (line: string) => void logLines.push(JSON.parse(line) as object) },
    });
  });

  after(async () => {
    await app?.service.shutdown('test done');
    redis?.disconnect();
    await Promise.all([fcm?.stop(), sendgrid?.stop()]);
  });

  it('starts without SendGrid: logged once, ready with SendGrid shown disabled, gauge 0', async () => {
    const url = app!.service.url;
    const res = await fetch(`${url}/health/readiness`);
    const report = (await res.json()) as Readiness;
    expect(res.status).to.equal(200);
    expect(report.status).to.equal('ok');
    expect(report.checks['sendgrid']).to.include({ ok: true, detail: 'disabled: SENDGRID_API_KEY not set' });
    expect(report.checks['fcm']).to.include({ ok: true, detail: 'enabled, breaker closed' });
    expect(await metric(url, 'chat_notification_provider_enabled', { provider: 'fcm' })).to.equal(1);
    expect(await metric(url, 'chat_notification_provider_enabled', { provider: 'sendgrid' })).to.equal(0);
    expect([...app!.providers.keys()]).to.deep.equal(['fcm']);
  });

  it('sends pushes and dead-letters e-mails as provider_not_configured, keeping the settings API', async () => {
    const [pusher, mailer, overrider] = world.members;
    const url = app!.service.url;
    const token = fcmToken('pusher');
    await settingsApi(url, pusher!).registerDevice(token);
    // Preferences are stored and read back as usual, even for the provider that is off.
    const updated = await settingsApi(url, overrider!).update({ mode: 'email', email: 'else@mail.test' });
    expect(updated).to.include({ mode: 'email', email: 'else@mail.test' });
    expect(await settingsApi(url, overrider!).get()).to.include({ mode: 'email', email: 'else@mail.test' });

    const first = await produceMessage(redis, world, 'push me');
    const second = await produceMessage(redis, world, 'and again');
    await waitUntil(
      async () => (await unacknowledged(redis)) === 0,
      15_000,
      'both entries to be acknowledged',
    );

    expect(fcm.sends().map((s) => [s.token, s.messageId])).to.have.deep.members([
      [token, first.messageId],
      [token, second.messageId],
    ]);
    const letters = await app!.deadLetters.list();
    expect(letters).to.have.length(4);
    for (const letter of letters) {
      expect(letter).to.include({
        kind: 'delivery',
        provider: 'sendgrid',
        reason: 'provider_not_configured',
        target: 'email',
      });
      expect(letter.error).to.match(/sendgrid is not configured/);
      expect(letter.attempts).to.deep.equal([]);
    }
    expect(letters.map((l) => [l.recipient, l.messageId])).to.have.deep.members([
      [mailer!.userId, first.messageId],
      [overrider!.userId, first.messageId],
      [mailer!.userId, second.messageId],
      [overrider!.userId, second.messageId],
    ]);
    const labels = { provider: 'sendgrid', reason: 'provider_not_configured' };
    expect(await metric(url, 'chat_notification_dead_lettered_total', labels)).to.equal(4);
    // Not a provider failure: the SLI counts only providers that are on.
    expect(await metric(url, 'chat_notification_failed_total')).to.equal(0);
    expect(await metric(url, 'chat_notification_sent_total', { provider: 'fcm' })).to.equal(2);

    const disabledNotices = logLines.filter((l) => l.msg?.startsWith('provider disabled'));
    expect(disabledNotices.map((l) => l.provider)).to.deep.equal(['sendgrid']);
  });

  it('sends the dead-lettered e-mails on replay once SendGrid is configured', async () => {
    const [, mailer] = world.members;
    await app!.service.shutdown('reconfigure');
    app = await startInProcess(serviceEnv({ redisUrl, authUrl, fcmUrl: fcm.url, sendgridUrl: sendgrid.url }));
    expect(
      await metric(app.service.url, 'chat_notification_provider_enabled', { provider: 'sendgrid' }),
    ).to.equal(1);
    const replayed = await runDlqCli(redisUrl, ['replay', '--reason', 'provider_not_configured']);
    expect(replayed.code, replayed.stderr).to.equal(0);
    expect(replayed.stdout).to.contain('replayed 4');
    await sendgrid.waitFor(() => sendgrid.sends().length === 4, 15_000, 'the replayed e-mails');
    await waitUntil(
      async () => (await unacknowledged(redis)) === 0,
      15_000,
      'the replays to be acknowledged',
    );
    expect(sendgrid.sends().map((m) => m.to)).to.have.members([
      mailer!.email,
      mailer!.email,
      'else@mail.test',
      'else@mail.test',
    ]);
    expect(await redis.xlen('chat:notify:dead')).to.equal(0);
    // The pushes were not repeated by the replays.
    expect(fcm.sends()).to.have.length(2);
  });

  it('refuses to start with partial FCM credentials, with one line naming the missing variable', async () => {
    const env = serviceEnv({ redisUrl, authUrl, fcmUrl: fcm.url, sendgridUrl: sendgrid.url });
    delete env['FCM_ACCESS_TOKEN'];
    const child = spawn(process.execPath, [mainJs], { env: { ...process.env, ...env }, stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).to.equal(1);
    expect(stderr).to.equal('config: FCM_ACCESS_TOKEN: required\n');
  });
});
