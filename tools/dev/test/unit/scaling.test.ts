import { expect } from 'chai';
import { planScaling, type ReplicaView } from '../../src/runner/scaling.js';

const replica = (id: string, hash: string, ready = true, startedAt = 0): ReplicaView => ({
  id,
  hash,
  ready,
  available: ready,
  startedAt,
});

describe('dev runner: scaling and rolling replacement', () => {
  const target = { replicas: 2, templateHash: 'new', maxSurge: 1, maxUnavailable: 0 };

  it('starts the missing replicas and stops the extra ones, not-ready and youngest first', () => {
    expect(planScaling([], target)).to.deep.equal({ start: 2, stop: [] });
    const plan = planScaling(
      [
        replica('a', 'new', true, 1),
        replica('b', 'new', true, 3),
        replica('c', 'new', false, 2),
        replica('d', 'new', true, 4),
      ],
      target,
    );
    expect(plan).to.deep.equal({ start: 0, stop: ['c', 'd'] });
  });

  it('rolls with maxSurge 1 and maxUnavailable 0: one new replica, then one old one once it is available', () => {
    const old = [replica('o1', 'old', true, 1), replica('o2', 'old', true, 2)];
    expect(planScaling(old, target)).to.deep.equal({ start: 1, stop: [] });
    expect(planScaling([...old, replica('n1', 'new', false, 3)], target)).to.deep.equal({
      start: 0,
      stop: [],
    });
    expect(planScaling([...old, replica('n1', 'new', true, 3)], target)).to.deep.equal({
      start: 1,
      stop: ['o1'],
    });
    expect(planScaling([old[1]!, replica('n1', 'new'), replica('n2', 'new')], target)).to.deep.equal({
      start: 0,
      stop: ['o2'],
    });
  });

  it('stops old replicas that are not ready at once: they keep nothing available', () => {
    const plan = planScaling([replica('o1', 'old', false), replica('o2', 'old', true)], target);
    expect(plan.stop).to.deep.equal(['o1']);
    // Room for both new ones: o2 plus two new stays within replicas + maxSurge.
    expect(plan.start).to.equal(2);
  });

  it('with maxUnavailable it may stop old replicas before new ones are ready', () => {
    const plan = planScaling([replica('o1', 'old', true, 1), replica('o2', 'old', true, 2)], {
      ...target,
      maxSurge: 0,
      maxUnavailable: 1,
    });
    expect(plan).to.deep.equal({ start: 1, stop: ['o1'] });
  });

  it('scaled to zero stops everything', () => {
    expect(
      planScaling([replica('o1', 'old'), replica('n1', 'new')], { ...target, replicas: 0 }),
    ).to.deep.equal({
      start: 0,
      stop: ['n1', 'o1'],
    });
  });
});
