import { expect } from 'chai';
import { Redis } from 'ioredis';
import { AppError, kitErrors, RedisRateLimiter } from '@chatcluster/kit';
import { msgErrors } from '../../src/errors.js';
import { RateLimiter } from '../../src/rate-limit.js';

// Redis is unreachable here, so these are the per-instance decisions; test/integration/rate-limit
// checks the same through Redis, across two instances.
describe('message: a user limit', () => {
  let redis: Redis;
  before(() => {
    redis = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    redis.on('error', () => undefined);
  });
  after(() => redis.disconnect());

  it('gives back the token of a send the service failed (5xx), not of one the caller got wrong', async () => {
    const limiter = new RateLimiter(new RedisRateLimiter(redis, { name: 't', prefix: 't' }), [
      { name: 'burst', limit: 3, windowMs: 60_000 },
    ]);
    // An outage of ours: the SDK repeats the same send every second; none of it counts.
    for (let attempt = 0; attempt < 10; attempt++) {
      expect(await limiter.take('u'), `attempt ${attempt}`).to.equal(0);
      limiter.refundIfServerFault('u', msgErrors.MSG_STORE_UNAVAILABLE('down', { retryAfterSeconds: 1 }));
    }
    expect(await limiter.take('u')).to.equal(0);
    limiter.refundIfServerFault('u', new Error('a bug')); // INTERNAL: also ours
    // The caller's own faults count.
    expect(await limiter.take('u')).to.equal(0);
    limiter.refundIfServerFault('u', kitErrors.FORBIDDEN('not a member'));
    expect(await limiter.take('u')).to.equal(0);
    limiter.refundIfServerFault('u', new AppError('VALIDATION_FAILED', 'bad'));
    expect(await limiter.take('u')).to.equal(0);
    expect(await limiter.take('u')).to.equal(20);
  });
});
