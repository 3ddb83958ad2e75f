import { expect } from 'chai';
import { RateLimiter } from '../../src/rate-limit.js';

describe('message: per-user token buckets', () => {
  it('allows a burst of 20, then one every 500 ms, and 100 a minute sustained', () => {
    let now = 0;
    const limiter = new RateLimiter(
      [
        { name: 'minute', capacity: 100, windowMs: 60_000 },
        { name: 'burst', capacity: 20, windowMs: 10_000 },
      ],
      () => now,
    );
    const allowed = Array.from({ length: 25 }, () => limiter.take('u')).filter((w) => w === 0).length;
    expect(allowed).to.equal(20);
    expect(limiter.take('u')).to.equal(1);
    expect(limiter.take('other')).to.equal(0);
    now += 500;
    expect(limiter.take('u')).to.equal(0);
    expect(limiter.take('u')).to.be.greaterThan(0);
    // Sending as fast as allowed for 10 minutes: the per-minute bucket sets the sustained rate
    // (100 a minute after its initial 100), although the burst bucket alone would allow 120.
    let total = 21;
    for (let t = 0; t < 600; t++) {
      now += 1_000;
      while (limiter.take('u') === 0) total++;
    }
    expect(total).to.be.within(1_099, 1_101);
  });

  it('answers whole seconds to wait, at least 1', () => {
    let now = 0;
    const limiter = new RateLimiter([{ name: 'x', capacity: 1, windowMs: 60_000 }], () => now);
    expect(limiter.take('u')).to.equal(0);
    expect(limiter.take('u')).to.equal(60);
    now = 59_500;
    expect(limiter.take('u')).to.equal(1);
  });
});
