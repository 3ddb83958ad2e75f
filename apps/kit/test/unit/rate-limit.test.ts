import { expect } from 'chai';
import { createMetrics, LocalRateLimiter, RedisRateLimiter, type RateLimitRedis } from '../../src/index.js';

describe('kit: rate limits (GCRA)', () => {
  const account = [{ name: 'login-account', limit: 3, windowMs: 30_000 }];
  const send = [
    { name: 'send-minute', limit: 100, windowMs: 60_000 },
    { name: 'send-burst', limit: 20, windowMs: 10_000 },
  ];

  it('allows a burst of `limit`, then one per window/limit, with a Retry-After', () => {
    const l = new LocalRateLimiter();
    const t = 1_000_000;
    expect([1, 2, 3].map(() => l.consume(account, 'alice', t).allowed)).to.deep.equal([true, true, true]);
    const denied = l.consume(account, 'alice', t);
    expect(denied.allowed).to.equal(false);
    expect(denied.retryAfterSeconds).to.equal(10);
    expect(l.consume(account, 'bob', t).allowed).to.equal(true); // keys are independent
    expect(l.consume(account, 'alice', t + 10_000).allowed).to.equal(true);
    expect(l.consume(account, 'alice', t + 10_000).allowed).to.equal(false);
  });

  it('needs every rule of a check: 20 at once, one per 500 ms, 100 a minute sustained', () => {
    const l = new LocalRateLimiter();
    let now = 0;
    const take = () => l.consume(send, 'u', now).allowed;
    expect(Array.from({ length: 25 }, take).filter(Boolean)).to.have.length(20);
    now += 500;
    expect(take()).to.equal(true);
    expect(take()).to.equal(false);
    // As fast as allowed for 10 minutes: the per-minute rule sets the rate, though the burst rule
    // alone would allow 120 a minute.
    let total = 21;
    for (let t = 0; t < 600; t++) {
      now += 1_000;
      while (take()) total++;
    }
    expect(total).to.be.within(1_099, 1_101);
  });

  it('a refusal counts against no rule', () => {
    const l = new LocalRateLimiter();
    const rules = [
      { name: 'a', limit: 1, windowMs: 1_000 },
      { name: 'b', limit: 5, windowMs: 1_000 },
    ];
    expect(l.consume(rules, 'u', 0).remaining).to.equal(0);
    for (let i = 0; i < 5; i++) expect(l.consume(rules, 'u', 0).allowed).to.equal(false);
    // b was charged once only, by the allowed request: its second leaves three of five.
    expect(l.consume([rules[1]!], 'u', 0).remaining).to.equal(3);
  });

  it('refund gives one request back; reset forgets the key', () => {
    const l = new LocalRateLimiter();
    for (let i = 0; i < 3; i += 1) l.consume(account, 'alice', 0);
    expect(l.consume(account, 'alice', 0).allowed).to.equal(false);
    l.refund(account, 'alice', 0);
    expect(l.consume(account, 'alice', 0).allowed).to.equal(true);
    expect(l.consume(account, 'alice', 0).allowed).to.equal(false);
    l.reset(account, 'alice');
    expect(l.consume(account, 'alice', 0).allowed).to.equal(true);
  });

  it('bounds the keys it tracks', () => {
    const l = new LocalRateLimiter(10);
    for (let i = 0; i < 100; i += 1) l.consume(account, `k${i}`, 0);
    expect((l as unknown as { tats: Map<string, number> }).tats.size).to.be.at.most(10);
  });

  it('decides locally, and says so in its metrics, when Redis fails or is slow', async () => {
    const metrics = createMetrics('t');
    let calls = 0;
    const slow = () => new Promise<never>(() => undefined);
    const broken: RateLimitRedis = {
      evalsha: () => (calls++ === 0 ? Promise.reject(new Error('ECONNREFUSED')) : slow()),
      eval: slow,
      del: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const l = new RedisRateLimiter(broken, {
      name: 'login',
      prefix: 'p',
      metrics,
      timeoutMs: 20,
      retryRedisAfterMs: 50,
    });
    const decisions = [];
    for (let i = 0; i < 4; i += 1) decisions.push(await l.consume(account, 'alice'));
    expect(decisions.map((d) => d.allowed)).to.deep.equal([true, true, true, false]);
    expect(decisions.map((d) => d.source)).to.deep.equal(['local', 'local', 'local', 'local']);
    expect(calls, 'Redis not asked again right after a failure').to.equal(1);
    await new Promise((r) => setTimeout(r, 60));
    const started = Date.now();
    expect((await l.consume(account, 'bob')).source).to.equal('local');
    expect(Date.now() - started, 'a slow Redis costs the timeout').to.be.below(200);
    expect(calls).to.equal(2);
    const text = await metrics.registry.metrics();
    expect(text).to.match(/^t_rate_limit_local_decisions_total\{limiter="login"\} 5$/m);
    expect(text).to.match(/^t_rate_limit_degraded\{limiter="login"\} 1$/m);
  });

  it('sends the checks of one turn to Redis in one script call, and gives each its own answer', async () => {
    const calls: (string | number)[][] = [];
    // Answers each check in order: the 2nd refused (wait 1500 ms), the others allowed.
    const redis: RateLimitRedis = {
      evalsha: (_sha: string, numKeys: number, ...args: (string | number)[]) => {
        calls.push(args);
        const checks = numKeys / send.length;
        return Promise.resolve(
          Array.from({ length: checks }, (_, i) => (i === 1 ? [0, 1500, 0] : [1, 0, 9 - i])).flat(),
        );
      },
      eval: () => Promise.reject(new Error('unexpected')),
      del: () => Promise.resolve(0),
    };
    const l = new RedisRateLimiter(redis, { name: 'send', prefix: 'p' });
    const decisions = await Promise.all(['a', 'b', 'c'].map((user) => l.consume(send, user)));
    expect(calls, 'one call for the turn').to.have.length(1);
    const keys = calls[0]!.slice(0, 3 * send.length);
    expect(keys).to.deep.equal(['a', 'b', 'c'].flatMap((u) => send.map((r) => `p:{${u}}:${r.name}`)));
    expect(decisions.map((d) => [d.allowed, d.retryAfterSeconds, d.source])).to.deep.equal([
      [true, 0, 'redis'],
      [false, 2, 'redis'],
      [true, 0, 'redis'],
    ]);
    expect((await l.consume(send, 'd')).allowed, 'a later turn makes its own call').to.equal(true);
    expect(calls).to.have.length(2);
  });
});
