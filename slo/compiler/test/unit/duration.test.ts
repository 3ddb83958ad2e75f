import { expect } from 'chai';
import { formatDuration, parseDuration } from '../../src/index.js';

describe('durations', () => {
  it('parses Prometheus durations to seconds, compound ones included', () => {
    expect(parseDuration('5m')).to.equal(300);
    expect(parseDuration('1h30m')).to.equal(5400);
    expect(parseDuration('30d')).to.equal(2_592_000);
    expect(parseDuration('4w')).to.equal(2_419_200);
  });

  it('rejects text that is not a duration', () => {
    for (const text of ['', '5', 'm5', '1.5h', '5 m', '30m1h'])
      expect(parseDuration(text), text).to.equal(undefined);
  });

  it('formats with days as the largest unit, so windows read 28d rather than 4w', () => {
    expect(formatDuration(300)).to.equal('5m');
    expect(formatDuration(5400)).to.equal('1h30m');
    expect(formatDuration(2_419_200)).to.equal('28d');
    expect(formatDuration(0)).to.equal('0s');
    expect(() => formatDuration(1.5)).to.throw(/whole number/);
  });
});
