import { expect } from 'chai';
import { AppError, Bulkhead, createMetrics, type Metrics } from '../../src/index.js';
import { gate } from '../support/wait.js';

/** Lets every pending promise continuation run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Bulkhead', () => {
  let metrics: Metrics;

  beforeEach(() => {
    metrics = createMetrics('chat_bulkheadtest');
  });

  const value = async (name: string) =>
    (await metrics.registry.getSingleMetric(`chat_bulkheadtest_${name}`)!.get()).values.find(
      (v) => v.labels.bulkhead === 'mongo',
    )?.value;

  /** Starts a call that holds its slot until released; records when it started running. */
  function held(bulkhead: Bulkhead, started: string[], name: string) {
    const release = gate();
    const result = bulkhead.run(async () => {
      started.push(name);
      await release.promise;
      return name;
    });
    return { result, release: release.open };
  }

  it('runs at most maxConcurrent at once, queues up to maxQueue in FIFO order, refuses the rest', async () => {
    const bulkhead = new Bulkhead({ name: 'mongo', maxConcurrent: 2, maxQueue: 2, metrics });
    const started: string[] = [];
    const a = held(bulkhead, started, 'a');
    const b = held(bulkhead, started, 'b');
    const c = held(bulkhead, started, 'c');
    const d = held(bulkhead, started, 'd');
    await settle();
    expect(started).to.deep.equal(['a', 'b']);
    expect([bulkhead.inFlight, bulkhead.queued]).to.deep.equal([2, 2]);
    expect(await value('bulkhead_in_flight')).to.equal(2);
    expect(await value('bulkhead_queued')).to.equal(2);

    const refused = await bulkhead.run(() => Promise.resolve('e')).catch((err: unknown) => err);
    expect(refused).to.be.instanceOf(AppError);
    expect(refused).to.include({
      code: 'BULKHEAD_FULL',
      status: 503,
      retryAfterSeconds: 1,
      message: 'bulkhead mongo is full: 2 in flight, 2 queued',
    });
    expect(await value('bulkhead_rejected_total')).to.equal(1);

    b.release();
    expect(await b.result).to.equal('b');
    await settle();
    expect(started).to.deep.equal(['a', 'b', 'c']);
    a.release();
    expect(await a.result).to.equal('a');
    await settle();
    expect(started).to.deep.equal(['a', 'b', 'c', 'd']);
    c.release();
    d.release();
    expect(await Promise.all([c.result, d.result])).to.deep.equal(['c', 'd']);
    expect([bulkhead.inFlight, bulkhead.queued]).to.deep.equal([0, 0]);
    expect(await value('bulkhead_in_flight')).to.equal(0);
  });

  it('frees the slot when the call fails', async () => {
    const bulkhead = new Bulkhead({ name: 'mongo', maxConcurrent: 1, maxQueue: 0 });
    const error = await bulkhead.run(() => Promise.reject(new Error('boom'))).catch((err: unknown) => err);
    expect((error as Error).message).to.equal('boom');
    expect(bulkhead.inFlight).to.equal(0);
    expect(await bulkhead.run(() => Promise.resolve('next'))).to.equal('next');
  });

  it('refuses a queued call that waited longer than queueTimeoutMs', async () => {
    const bulkhead = new Bulkhead({
      name: 'mongo',
      maxConcurrent: 1,
      maxQueue: 1,
      queueTimeoutMs: 20,
      metrics,
    });
    const started: string[] = [];
    const a = held(bulkhead, started, 'a');
    const waited = await bulkhead.run(() => Promise.resolve('b')).catch((err: unknown) => err);
    expect(waited).to.include({ code: 'BULKHEAD_FULL', message: 'bulkhead mongo: no slot within 20 ms' });
    expect(bulkhead.queued).to.equal(0);
    expect(await value('bulkhead_rejected_total')).to.equal(1);
    a.release();
    await a.result;
    expect(started).to.deep.equal(['a']);
  });

  it('refuses nonsensical sizes', () => {
    expect(() => new Bulkhead({ name: 'x', maxConcurrent: 0, maxQueue: 0 })).to.throw(/maxConcurrent/);
    expect(() => new Bulkhead({ name: 'x', maxConcurrent: 1, maxQueue: -1 })).to.throw(/maxQueue/);
  });
});
