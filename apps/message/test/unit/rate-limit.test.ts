import { expect } from 'chai';
import { AppError, kitErrors } from '@chatcluster/kit';
import { msgErrors } from '../../src/errors.js';
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

  it('gives back the token of a send the service failed (5xx), not of one the caller got wrong', () => {
    let now = 0;
    const limiter = new RateLimiter([{ name: 'burst', capacity: 3, windowMs: 60_000 }], () => now);
    // An outage of ours: the SDK repeats the same send every second; none of it counts.
    for (let attempt = 0; attempt < 10; attempt++) {
      expect(limiter.take('u'), `attempt ${attempt}`).to.equal(0);
      limiter.refundIfServerFault('u', msgErrors.MSG_STORE_UNAVAILABLE('down', { retryAfterSeconds: 1 }));
    }
    limiter.refundIfServerFault('u', new Error('a bug')); // INTERNAL: also ours
    // The caller's own faults count.
    expect(limiter.take('u')).to.equal(0);
    limiter.refundIfServerFault('u', kitErrors.FORBIDDEN('not a member'));
    expect(limiter.take('u')).to.equal(0);
    limiter.refundIfServerFault('u', new AppError('VALIDATION_FAILED', 'bad'));
    expect(limiter.take('u')).to.equal(0);
    expect(limiter.take('u')).to.be.greaterThan(0);
    // Never above capacity, and a key without buckets is left alone.
    now += 60_000;
    limiter.refundIfServerFault('u', new Error('x'));
    limiter.refundIfServerFault('nobody', new Error('x'));
    expect(Array.from({ length: 5 }, () => limiter.take('u')).filter((w) => w === 0)).to.have.length(3);
  });
});
