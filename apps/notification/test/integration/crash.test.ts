// The service as its own process, stopped while entries are in flight. SIGKILL: nothing is lost
// (a second instance claims the dead one's pending entries) and nothing finished is sent again;
// the only calls repeated are those whose answer the dead process never got (their dedupe lease
// was still `calling`): push ones are resent with the same collapse id (one notification on the
// device), e-mail ones are dead-lettered as outcome_unknown instead of risking a second mail.
// SIGTERM: calls in flight finish, the rest is released, and the next instance sends each once.
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { parseDedupeRecord, type DedupeRecord } from '../../src/delivery/dedupe.js';
import type { DeadLetter } from '../../src/deadletter/dead-letters.js';
import { DeadLetters } from '../../src/deadletter/dead-letters.js';
import { dedupeKey, deviceId } from '../../src/keys.js';
import { FcmStandIn } from '../support/fcm-standin.js';
import { SendGridStandIn } from '../support/sendgrid-standin.js';
import { environment, freshRedisUrl } from './support/environment.js';
import { produceMessage, type ProducedMessage } from './support/producer.js';
import {
  FCM_PROJECT,
  FCM_TOKEN,
  SENDGRID_KEY,
  serviceEnv,
  startChild,
  testRedis,
  unacknowledged,
  waitUntil,
  type ChildService,
} from './support/service.js';
import { createWorld, fcmToken, settingsApi, type World } from './support/world.js';

/** Dedupe records by key, as Redis holds them right now. */
async function dedupeRecords(redis: Redis): Promise<Map<string, DedupeRecord>> {
  const records = new Map<string, DedupeRecord>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', 'chat:notify:dedupe:*', 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const record = parseDedupeRecord(await redis.get(key));
      if (record) records.set(key, record);
    }
  } while (cursor !== '0');
  return records;
}

function count<T>(items: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

describe('the service process stopped with entries in flight', function () {
  let fcm: FcmStandIn;
  let sendgrid: SendGridStandIn;
  let world: World;
  let redis: Redis;
  let redisUrl: string;
  let authUrl: string;
  const tokenOwner = new Map<string, string>();
  const emailOwner = new Map<string, string>();
  const children: ChildService[] = [];

  const env = (instance: string, overrides: Record<string, string> = {}) =>
    serviceEnv(
      { redisUrl, authUrl, fcmUrl: fcm.url, sendgridUrl: sendgrid.url },
      {
        INSTANCE_ID: instance,
        PROVIDER_CALL_TIMEOUT_MS: '3000',
        DELIVERY_TOTAL_TIMEOUT_MS: '6000',
        CLAIM_IDLE_MS: '1000',
        PROVIDER_MAX_CONCURRENT: '4',
        ...overrides,
      },
    );
  const start = async (instance: string, overrides: Record<string, string> = {}) => {
    const child = await startChild(env(instance, overrides));
    children.push(child);
    return child;
  };
  /** The dedupe key of an accepted push or mail. */
  /** createdAt of every produced message, by id: dedupe keys name both. */
  const produced = new Map<string, ProducedMessage>();
  const produce = async (redis: Redis, world: World, preview: string) => {
    const message = await produceMessage(redis, world, preview);
    produced.set(message.messageId, message);
    return message;
  };
  const pushKey = (token: string, messageId: string) =>
    dedupeKey(produced.get(messageId)!, tokenOwner.get(token)!, 'fcm', deviceId(token));
  const mailKey = (to: string, messageId: string) =>
    dedupeKey(produced.get(messageId)!, emailOwner.get(to)!, 'sendgrid', 'email');
  const expectedKeys = (messages: readonly ProducedMessage[]) => ({
    push: messages.flatMap((m) => [...tokenOwner.keys()].map((t) => pushKey(t, m.messageId))),
    mail: messages.flatMap((m) => [...emailOwner.keys()].map((e) => mailKey(e, m.messageId))),
  });

  before(async () => {
    const shared = await environment();
    authUrl = shared.authUrl;
    fcm = await new FcmStandIn(FCM_PROJECT, FCM_TOKEN).start();
    sendgrid = await new SendGridStandIn(SENDGRID_KEY).start();
    redisUrl = await freshRedisUrl();
    redis = testRedis(redisUrl);
    world = await createWorld(authUrl, ['p1', 'p2', 'p3', 'p4', 'm1', 'm2', 'm3', 'm4']);
    const setup = await start('setup');
    for (const member of world.members.slice(0, 4)) {
      const token = fcmToken(member.username);
      tokenOwner.set(token, member.userId);
      await settingsApi(setup.url, member).registerDevice(token);
    }
    for (const member of world.members.slice(4)) emailOwner.set(member.email, member.userId);
    setup.child.kill('SIGTERM');
    expect(await setup.exited).to.equal(0);
  });

  after(async () => {
    for (const child of children) child.child.kill('SIGKILL');
    redis?.disconnect();
    await Promise.all([fcm?.stop(), sendgrid?.stop()]);
  });

  it('SIGKILL loses nothing and repeats nothing that was finished', async () => {
    fcm.always({ kind: 'delay', ms: 40 });
    sendgrid.always({ kind: 'delay', ms: 40 });
    const a = await start('crash-a');
    const messages: ProducedMessage[] = [];
    for (let i = 0; i < 30; i++) messages.push(await produce(redis, world, `crash ${i}`));
    await waitUntil(
      () => fcm.accepted().length + sendgrid.accepted().length >= 60,
      30_000,
      'some deliveries',
    );
    // Freeze the providers so calls are certainly open at the kill.
    fcm.hold();
    sendgrid.hold();
    await waitUntil(
      () => fcm.heldOpen() > 0 && sendgrid.heldOpen() > 0,
      10_000,
      'calls held at both providers',
    );
    a.child.kill('SIGKILL');
    expect(await a.exited).to.equal('SIGKILL');

    const atKill = await dedupeRecords(redis);
    const pendingAtKill = await unacknowledged(redis);
    const sentAtKill = [...atKill].filter(([, r]) => r.s === 'sent').map(([k]) => k);
    const callingAtKill = new Set([...atKill].filter(([, r]) => r.s === 'calling').map(([k]) => k));
    const openAtKill = fcm.heldOpen() + sendgrid.heldOpen();
    expect(pendingAtKill, 'entries in flight at the kill').to.be.greaterThan(0);
    expect(callingAtKill.size).to.be.greaterThan(0);
    // Only deliveries with a call open are "calling": at most one per bulkhead slot of each provider.
    expect(callingAtKill.size).to.be.at.most(2 * 4);

    // The providers had the open calls; their answers went nowhere.
    fcm.release();
    sendgrid.release();
    fcm.always({ kind: 'answer' });
    sendgrid.always({ kind: 'answer' });
    const b = await start('crash-b');
    await waitUntil(async () => (await unacknowledged(redis)) === 0, 60_000, 'the second instance to finish');

    const expected = expectedKeys(messages);
    const pushCounts = count(
      fcm.accepted().map((r) => {
        const send = FcmStandIn.sendOf(r);
        return pushKey(send.token, send.messageId);
      }),
    );
    const mailCounts = count(sendgrid.sends().map((m) => mailKey(m.to, m.messageId)));
    const deadLetters = await new DeadLetters(redis, {
      stream: 'chat:notify',
      deadStream: 'chat:notify:dead',
    }).list();
    const deadKeys = new Set(
      deadLetters.map((d: DeadLetter) =>
        dedupeKey(produced.get(d.messageId)!, d.recipient, d.provider, d.target),
      ),
    );

    // Nothing lost: every push accepted; every e-mail accepted or dead-lettered for an operator.
    for (const key of expected.push) expect(pushCounts.get(key) ?? 0, key).to.be.at.least(1);
    for (const key of expected.mail)
      expect((mailCounts.get(key) ?? 0) + (deadKeys.has(key) ? 1 : 0), key).to.be.at.least(1);
    // Nothing finished before the kill went out again.
    for (const key of sentAtKill)
      expect((pushCounts.get(key) ?? 0) + (mailCounts.get(key) ?? 0), key).to.equal(1);
    // No e-mail twice; a push twice only when its call was open at the kill, with the same collapse id.
    for (const [key, n] of mailCounts) expect(n, key).to.equal(1);
    const repeatedPushes = [...pushCounts].filter(([, n]) => n > 1).map(([k]) => k);
    for (const key of repeatedPushes) {
      expect(callingAtKill.has(key), `${key} repeated without an open call`).to.equal(true);
      expect(pushCounts.get(key)).to.equal(2);
    }
    const collapseIds = new Map<string, Set<string>>();
    for (const r of fcm.accepted()) {
      const send = FcmStandIn.sendOf(r);
      const ids = collapseIds.get(send.messageId) ?? new Set<string>();
      ids.add(send.collapseId);
      collapseIds.set(send.messageId, ids);
    }
    for (const ids of collapseIds.values()) expect(ids.size).to.equal(1);
    // Only e-mails whose call was open at the kill are dead letters, each as outcome_unknown.
    for (const letter of deadLetters) {
      expect(letter.reason).to.equal('outcome_unknown');
      expect(letter.provider).to.equal('sendgrid');
    }
    for (const key of deadKeys) expect(callingAtKill.has(key), key).to.equal(true);

    console.log(
      `      at the kill: ${pendingAtKill} entries pending, ${sentAtKill.length} deliveries sent, ` +
        `${callingAtKill.size} leases calling (${openAtKill} calls open at the providers); afterwards: ` +
        `${repeatedPushes.length} pushes resent with the same collapse id, ${deadLetters.length} e-mails dead-lettered as outcome_unknown`,
    );
    b.child.kill('SIGTERM');
    expect(await b.exited).to.equal(0);
  });

  it('SIGTERM finishes calls in flight, releases the rest, and the next instance sends each once', async () => {
    const acceptedBefore = { fcm: fcm.accepted().length, sendgrid: sendgrid.accepted().length };
    const a = await start('term-a', { PROVIDER_MAX_CONCURRENT: '2', SHUTDOWN_DRAIN_MS: '5000' });
    fcm.hold();
    sendgrid.hold();
    const messages: ProducedMessage[] = [];
    for (let i = 0; i < 10; i++) messages.push(await produce(redis, world, `term ${i}`));
    await waitUntil(
      () => fcm.heldOpen() === 2 && sendgrid.heldOpen() === 2,
      10_000,
      'two calls held per provider',
    );
    a.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    fcm.release();
    sendgrid.release();
    expect(await a.exited).to.equal(0);

    // The open calls finished and were recorded; nothing is left mid-call; the rest waits.
    const records = await dedupeRecords(redis);
    expect([...records.values()].filter((r) => r.s === 'calling')).to.deep.equal([]);
    expect(fcm.accepted().length - acceptedBefore.fcm).to.equal(2);
    expect(sendgrid.accepted().length - acceptedBefore.sendgrid).to.equal(2);
    expect(await unacknowledged(redis)).to.be.greaterThan(0);

    const b = await start('term-b');
    await waitUntil(async () => (await unacknowledged(redis)) === 0, 60_000, 'the next instance to finish');
    const expected = expectedKeys(messages);
    const ids = new Set(messages.map((m) => m.messageId));
    const pushes = fcm
      .sends()
      .filter((p) => ids.has(p.messageId))
      .map((p) => pushKey(p.token, p.messageId));
    const mails = sendgrid
      .sends()
      .filter((m) => ids.has(m.messageId))
      .map((m) => mailKey(m.to, m.messageId));
    expect(pushes.sort()).to.deep.equal(expected.push.sort());
    expect(mails.sort()).to.deep.equal(expected.mail.sort());
    b.child.kill('SIGTERM');
    expect(await b.exited).to.equal(0);
  });
});
