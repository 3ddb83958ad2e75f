import { expect } from 'chai';
import { failureOfStatus, parseRetryAfter } from '../../src/providers/provider-error.js';

describe('provider answers', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    expect(parseRetryAfter('7', now)).to.equal(7000);
    expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:30 GMT', now)).to.equal(30_000);
    expect(parseRetryAfter('Tue, 24 Nov 2026 09:00:00 GMT', now)).to.equal(0);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
    expect(parseRetryAfter(null, now)).to.equal(undefined);
  });

  it('retries 408, 429 and 5xx, holds 401/403 as our credentials, refuses other 4xx', () => {
    expect([408, 429, 500, 502, 503, 504].map(failureOfStatus)).to.deep.equal(Array(6).fill('retryable'));
    expect([401, 403].map(failureOfStatus)).to.deep.equal(['credentials', 'credentials']);
    expect([400, 404, 413, 422].map(failureOfStatus)).to.deep.equal(Array(4).fill('rejected'));
  });
});
