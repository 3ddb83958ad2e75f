import { expect } from 'chai';
import { LocalRateLimiter, RedisRateLimiter } from '../../src/redis-rate-limiter.js';

describe('rate limiter (GCRA)', () => {
  const rule = { name: 'login-account', limit: 3, windowSeconds: 30 };

  it('allows a burst of `limit`, then one per window/limit, with a Retry-After', () => {
    const l = new LocalRateLimiter();
    const t = 1_000_000;
    expect([1, 2, 3].map(() => l.consume(rule, 'alice', t).allowed)).to.deep.equal([true, true, true]);
    const denied = l.consume(rule, 'alice', t);
    expect(denied.allowed).to.equal(false);
    expect(denied.retryAfterSeconds).to.equal(10);
    expect(l.consume(rule, 'bob', t).allowed).to.equal(true); // keys are independent
    expect(l.consume(rule, 'alice', t + 10_000).allowed).to.equal(true);
    expect(l.consume(rule, 'alice', t + 10_000).allowed).to.equal(false);
  });

  it('reset forgets a key', () => {
    const l = new LocalRateLimiter();
    for (let i = 0; i < 3; i += 1) l.consume(rule, 'alice', 0);
    expect(l.consume(rule, 'alice', 0).allowed).to.equal(false);
    l.reset(rule, 'alice');
    expect(l.consume(rule, 'alice', 0).allowed).to.equal(true);
  });

  it('bounds the keys it tracks', () => {
    const l = new LocalRateLimiter(10);
    for (let i = 0; i < 100; i += 1) l.consume(rule, `k${i}`, 0);
    expect((l as unknown as { tats: Map<string, number> }).tats.size).to.be.at.most(10);
  });

  it('falls back to the local limiter when Redis fails, so the limit still holds', async () => {
    const errors: unknown[] = [];
    const broken = {
      eval: () => Promise.reject(new Error('ECONNREFUSED')),
      del: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const l = new RedisRateLimiter(broken, { prefix: 'p', onRedisError: (e) => errors.push(e) });
    const decisions = [];
    for (let i = 0; i < 4; i += 1) decisions.push(await l.consume(rule, 'alice'));
    expect(decisions.map((d) => d.allowed)).to.deep.equal([true, true, true, false]);
    expect(decisions[3]!.source).to.equal('local');
    expect(errors).to.have.length(4);
    await l.reset(rule, 'alice');
    expect((await l.consume(rule, 'alice')).allowed).to.equal(true);
  });
});
