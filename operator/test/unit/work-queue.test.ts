import { expect } from 'chai';
import { WorkQueue, backoffDelay } from '../../src/controller/work-queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('WorkQueue', () => {
  it('processes a key added several times while waiting only once', async () => {
    const queue = new WorkQueue();
    const seen: string[] = [];
    queue.add('a');
    queue.add('a');
    queue.add('b');
    queue.add('a');
    const running = queue.run((key) => Promise.resolve(void seen.push(key)), 1);
    await until(() => seen.length >= 2);
    await sleep(30);
    queue.shutDown();
    await running;
    expect(seen).to.deep.equal(['a', 'b']);
  });

  it('never runs one key on two workers at once, and reruns it once if added while in flight', async () => {
    const queue = new WorkQueue();
    let inFlight = 0;
    let maxInFlight = 0;
    let runs = 0;
    const running = queue.run(async () => {
      inFlight++;
      runs++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(30);
      inFlight--;
    }, 4);
    queue.add('a');
    await sleep(5);
    queue.add('a');
    queue.add('a');
    await until(() => runs === 2 && inFlight === 0);
    await sleep(50);
    queue.shutDown();
    await running;
    expect(maxInFlight).to.equal(1);
    expect(runs).to.equal(2);
  });

  it('retries a failing key with growing delays and resets them after a success', async () => {
    const queue = new WorkQueue({ baseDelayMs: 20, maxDelayMs: 1000 });
    const times: number[] = [];
    const delays: number[] = [];
    let failuresLeft = 3;
    const running = queue.run(
      () => {
        times.push(Date.now());
        return failuresLeft-- > 0 ? Promise.reject(new Error('conflict')) : Promise.resolve();
      },
      1,
      (_key, _err, retryInMs) => delays.push(retryInMs),
    );
    queue.add('a');
    await until(() => times.length === 4);
    expect(delays).to.deep.equal([20, 40, 80]);
    expect(times[3]! - times[2]!).to.be.greaterThanOrEqual(75);
    expect(queue.failures('a')).to.equal(0);
    queue.shutDown();
    await running;
  });

  it('keeps the backoff of each key apart', () => {
    const queue = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 1000 });
    expect(queue.addRateLimited('bad')).to.equal(10);
    expect(queue.addRateLimited('bad')).to.equal(20);
    expect(queue.addRateLimited('other')).to.equal(10);
    queue.shutDown();
  });

  it('caps the backoff', () => {
    expect(backoffDelay(1, { baseDelayMs: 250, maxDelayMs: 60_000 })).to.equal(250);
    expect(backoffDelay(5, { baseDelayMs: 250, maxDelayMs: 60_000 })).to.equal(4000);
    expect(backoffDelay(30, { baseDelayMs: 250, maxDelayMs: 60_000 })).to.equal(60_000);
  });

  it('requeues after the delay a handler asks for, the sooner of two delays winning', async () => {
    const queue = new WorkQueue();
    const times: number[] = [];
    const running = queue.run(() => {
      times.push(Date.now());
      return Promise.resolve(times.length === 1 ? 40 : undefined);
    }, 1);
    queue.addAfter('a', 500);
    queue.addAfter('a', 10);
    await until(() => times.length === 2, 400);
    expect(times[1]! - times[0]!).to.be.greaterThanOrEqual(35);
    queue.shutDown();
    await running;
  });

  it('lets in-flight work finish on shutdown and then stops', async () => {
    const queue = new WorkQueue();
    let finished = false;
    const running = queue.run(async () => {
      await sleep(30);
      finished = true;
    }, 2);
    queue.add('a');
    await sleep(5);
    queue.shutDown();
    await running;
    expect(finished).to.equal(true);
    queue.add('b');
    expect(queue.depth).to.equal(0);
  });
});
