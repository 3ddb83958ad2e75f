import { expect } from 'chai';
import { compareIds, minId } from '../../src/stream/stream-ids.js';
import { safeTrimId } from '../../src/stream/trimmer.js';

const group = (lastDeliveredId: string, oldestPendingId: string | null) => ({
  name: 'notification',
  lastDeliveredId,
  oldestPendingId,
  pending: oldestPendingId ? 1 : 0,
  lag: 0,
});

describe('trimming by age', () => {
  it('compares stream ids numerically', () => {
    expect(compareIds('9-0', '10-0')).to.equal(-1);
    expect(compareIds('10-2', '10-10')).to.equal(-1);
    expect(compareIds('10-1', '10-1')).to.equal(0);
    expect(minId(['20-0', '9-5', '9-10'])).to.equal('9-5');
  });

  it('cuts at the retention when every group is past it', () => {
    expect(safeTrimId(100_000, 10_000, [group('95000-0', null)])).to.equal('90000-0');
  });

  it('never cuts past what a group has not read or not acknowledged', () => {
    expect(safeTrimId(100_000, 10_000, [group('50000-3', null)])).to.equal('50000-3');
    expect(safeTrimId(100_000, 10_000, [group('95000-0', '40000-1')])).to.equal('40000-1');
    expect(safeTrimId(100_000, 10_000, [group('95000-0', null), group('30000-0', null)])).to.equal('30000-0');
  });

  it('trims nothing while no group exists', () => {
    expect(safeTrimId(100_000, 10_000, [])).to.equal('0-0');
  });
});
