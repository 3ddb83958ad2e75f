import { expect } from 'chai';
import { backoffDelay } from '../../src/delivery/backoff.js';

describe('retry backoff', () => {
  const schedule = { delaysMs: [1000, 5000, 15000], jitter: 0.2 };

  it('waits around 1 s, 5 s and 15 s, within the jitter', () => {
    for (const [n, base] of [
      [1, 1000],
      [2, 5000],
      [3, 15000],
    ] as const) {
      expect(backoffDelay(n, { ...schedule, random: () => 0 })).to.equal(base * 0.8);
      expect(backoffDelay(n, { ...schedule, random: () => 0.5 })).to.equal(base);
      expect(backoffDelay(n, { ...schedule, random: () => 0.999999 })).to.be.closeTo(base * 1.2, 1);
    }
  });

  it('repeats the last delay beyond the schedule', () => {
    expect(backoffDelay(7, { ...schedule, random: () => 0.5 })).to.equal(15000);
  });
});
