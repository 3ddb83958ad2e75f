import { isAppError } from '@chatcluster/kit';
import { expect } from 'chai';
import { AuthUnavailableError } from '../../src/errors.js';
import {
  membershipKey,
  readMembershipCache,
  type CacheRedis,
  type MembershipAnswer,
} from '../../src/membership-cache.js';
import { MembershipClient } from '../../src/membership-client.js';
import { fakeFetch, hangingFetch } from '../support/fake-fetch.js';

const C = '11111111-1111-4111-8111-111111111111';
const U = '22222222-2222-4222-8222-222222222222';

function answer(version: number, member: boolean): MembershipAnswer {
  return {
    channelId: C,
    userId: U,
    member,
    role: member ? 'member' : null,
    channel: 'active',
    visibility: 'private',
    version,
  };
}

/** Models the compare-and-set script closely enough to test the client around it. */
class FakeRedis implements CacheRedis {
  store = new Map<string, string>();
  down = false;
  get(key: string): Promise<string | null> {
    if (this.down) return Promise.reject(new Error('ECONNREFUSED'));
    return Promise.resolve(this.store.get(key) ?? null);
  }
  eval(_script: string, _n: number, ...args: (string | number)[]): Promise<unknown> {
    if (this.down) return Promise.reject(new Error('ECONNREFUSED'));
    const [key, value, version] = args as [string, string, number];
    const current = this.store.get(key);
    if (current && (JSON.parse(current) as MembershipAnswer).version > Number(version))
      return Promise.resolve(0);
    this.store.set(key, value);
    return Promise.resolve(1);
  }
}

describe('membership lookup client', () => {
  it('uses the documented cache key', () => {
    expect(membershipKey(C, U)).to.equal(`chat:membership:${C}:${U}`);
  });

  it('answers from Redis first, else asks auth and fills the cache', async () => {
    const redis = new FakeRedis();
    let calls = 0;
    const client = new MembershipClient({
      authUrl: 'http://auth.invalid',
      redis,
      fetch: fakeFetch((url) => {
        calls += 1;
        expect(url.pathname).to.equal(`/internal/v1/channels/${C}/members/${U}`);
        return new Response(JSON.stringify(answer(7, true)));
      }),
    });
    expect((await client.lookup(C, U)).member).to.equal(true);
    expect((await client.lookup(C, U)).version).to.equal(7);
    expect(calls).to.equal(1);
    expect((await readMembershipCache(redis, C, U))?.member).to.equal(true);
  });

  it('goes to auth when Redis is down, and says AuthUnavailable when auth is too', async () => {
    const redis = new FakeRedis();
    redis.down = true;
    let authDown = false;
    const client = new MembershipClient({
      authUrl: 'http://auth.invalid',
      redis,
      onCacheError: () => undefined,
      fetch: fakeFetch(() => {
        if (authDown) throw new TypeError('fetch failed');
        return new Response(JSON.stringify(answer(3, false)));
      }),
    });
    expect((await client.lookup(C, U)).member).to.equal(false);
    authDown = true;
    try {
      await client.lookup(C, U);
      expect.fail('answered without cache or auth');
    } catch (err) {
      expect(err).to.be.instanceOf(AuthUnavailableError);
      expect(err).to.include({ code: 'DEPENDENCY_UNAVAILABLE', status: 503 });
    }
  });

  it('stops calling auth once the kit breaker opens, but 4xx answers never open it', async () => {
    let calls = 0;
    let status = 400;
    const client = new MembershipClient({
      authUrl: 'http://auth.invalid',
      redis: null,
      breaker: { consecutiveFailures: 3, resetTimeout: 30_000 },
      fetch: fakeFetch(() => {
        calls += 1;
        return new Response('{}', { status });
      }),
    });
    try {
      for (let i = 0; i < 5; i += 1) await client.lookup(C, U).catch(() => undefined);
      expect(calls, '4xx answers went through every time').to.equal(5);
      status = 503;
      for (let i = 0; i < 3; i += 1) await client.lookup(C, U).catch(() => undefined);
      expect(calls).to.equal(8);
      const err = await client.lookup(C, U).catch((e: unknown) => e);
      expect(calls, 'no call while the circuit is open').to.equal(8);
      expect(err).to.be.instanceOf(AuthUnavailableError);
      expect(isAppError((err as Error).cause, 'CIRCUIT_OPEN')).to.equal(true);
      expect((err as AuthUnavailableError).retryAfterSeconds).to.be.within(25, 30);
    } finally {
      client.close();
    }
  });

  it('gives up on a hanging auth after timeoutMs', async () => {
    const client = new MembershipClient({
      authUrl: 'http://auth.invalid',
      redis: null,
      timeoutMs: 50,
      fetch: hangingFetch,
    });
    const started = Date.now();
    const err = await client.lookup(C, U).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AuthUnavailableError);
    expect(Date.now() - started).to.be.below(1_000);
    client.close();
  });

  it('answers "missing" for ids that are not UUIDs without calling anyone', async () => {
    const client = new MembershipClient({
      authUrl: 'http://auth.invalid',
      redis: null,
      fetch: fakeFetch(() => {
        throw new Error('should not be called');
      }),
    });
    expect((await client.lookup("1' OR '1'='1", U)).channel).to.equal('missing');
  });
});
