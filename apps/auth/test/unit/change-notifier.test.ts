import type { MembershipAnswer } from '@chatcluster/auth-client';
import { expect } from 'chai';
import {
  CHANNEL_EVENTS,
  ChangeNotifier,
  REVOCATIONS_STREAM,
  type NotifierRedis,
} from '../../src/change-notifier.js';

const answer: MembershipAnswer = {
  channelId: '11111111-1111-4111-8111-111111111111',
  userId: '22222222-2222-4222-8222-222222222222',
  member: false,
  role: null,
  channel: 'active',
  visibility: 'public',
  version: 5,
};

/** Fails the first `failures` calls, then records what it was asked to do. */
class FlakyRedis implements NotifierRedis {
  published: { channel: string; message: string }[] = [];
  written: unknown[][] = [];
  appended: (string | number)[][] = [];
  constructor(public failures: number) {}
  private gate(): void {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('ECONNREFUSED');
    }
  }
  get(): Promise<string | null> {
    return Promise.resolve(null);
  }
  eval(_s: string, _n: number, ...args: (string | number)[]): Promise<unknown> {
    this.gate();
    this.written.push(args);
    return Promise.resolve(1);
  }
  xadd(key: string, ...args: (string | number)[]): Promise<string | null> {
    this.gate();
    this.appended.push([key, ...args]);
    return Promise.resolve('1-0');
  }
  publish(channel: string, message: string): Promise<number> {
    this.gate();
    this.published.push({ channel, message });
    return Promise.resolve(1);
  }
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((r) => setTimeout(r, 5));
};

describe('change notifier', () => {
  it('writes the versioned cache entry and publishes the event after a change', async () => {
    const redis = new FlakyRedis(0);
    await new ChangeNotifier(redis).membershipChanged(answer, 'membership.removed');
    expect(redis.published).to.have.length(1);
    expect(redis.published[0]!.channel).to.equal(CHANNEL_EVENTS);
    expect(JSON.parse(redis.published[0]!.message)).to.deep.equal({
      type: 'membership.removed',
      channelId: answer.channelId,
      userId: answer.userId,
      role: null,
      seq: 5,
    });
    expect(redis.written[0]).to.deep.equal([
      `chat:membership:${answer.channelId}:${answer.userId}`,
      JSON.stringify(answer),
      5,
      300,
    ]);
    // The revocation also goes on the stream, trimmed to the last hour.
    expect(redis.appended).to.have.length(1);
    const [key, minid, approx, minId, id, field, value] = redis.appended[0]!;
    expect([key, minid, approx, id, field]).to.deep.equal([REVOCATIONS_STREAM, 'MINID', '~', '*', 'event']);
    expect(Date.now() - Number(minId)).to.be.within(3_600_000, 3_610_000);
    expect(JSON.parse(String(value))).to.deep.equal(JSON.parse(redis.published[0]!.message));
  });

  it('puts no membership addition on the revocation stream', async () => {
    const redis = new FlakyRedis(0);
    await new ChangeNotifier(redis).membershipChanged(
      { ...answer, member: true, role: 'member' },
      'membership.added',
    );
    expect(redis.published).to.have.length(1);
    expect(redis.appended).to.have.length(0);
  });

  it('does not fail the committed change when Redis is down, and retries in the background', async () => {
    const redis = new FlakyRedis(4);
    const errors: string[] = [];
    const n = new ChangeNotifier(redis, {
      retryDelaysMs: [5, 5, 5],
      onError: (_e, what) => errors.push(what),
    });
    await n.channelDeleted(answer.channelId, 9, new Date(0), [{ ...answer, channel: 'deleted' }]);
    expect(n.backlog()).to.equal(3);
    await until(() => n.backlog() === 0);
    expect(n.backlog()).to.equal(0);
    expect(redis.published.map((p) => (JSON.parse(p.message) as { type: string }).type)).to.deep.equal([
      'channel.deleted',
    ]);
    expect(redis.written).to.have.length(1);
    expect(redis.appended.map((a) => a[0])).to.deep.equal([REVOCATIONS_STREAM]);
    expect(errors.length).to.equal(4);
  });

  it('gives up after the last delay', async () => {
    const redis = new FlakyRedis(100);
    const n = new ChangeNotifier(redis, { retryDelaysMs: [1, 1] });
    await n.membershipChanged(answer, 'membership.added');
    await until(() => n.backlog() === 0);
    expect(n.backlog()).to.equal(0);
    expect(redis.published).to.have.length(0);
  });
});
