import { expect } from 'chai';
import { hashRefreshToken, looksLikeRefreshToken, newRefreshToken } from '../../src/tokens/refresh-token.js';

describe('refresh tokens', () => {
  it('are 256-bit random, prefixed, and stored only as a SHA-256 hash', () => {
    const a = newRefreshToken();
    const b = newRefreshToken();
    expect(a).to.not.equal(b);
    expect(looksLikeRefreshToken(a)).to.equal(true);
    expect(looksLikeRefreshToken(a + 'x')).to.equal(false);
    expect(looksLikeRefreshToken("ccrt_' OR 1=1 --")).to.equal(false);
    expect(hashRefreshToken(a)).to.have.length(32);
    expect(hashRefreshToken(a).equals(hashRefreshToken(a))).to.equal(true);
    expect(hashRefreshToken(a).equals(hashRefreshToken(b))).to.equal(false);
  });
});
