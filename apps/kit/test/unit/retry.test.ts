import { expect } from 'chai';
import { AppError, createMetrics, retry, type Metrics, type RetryOptions } from '../../src/index.js';

/** Fails `failures` times with `error`, then returns 'ok'; records the attempt numbers it saw. */
function flaky(failures: number, error: () => Error = () => new Error('ECONNRESET')) {
  const attempts: number[] = [];
  const fn = (attempt: number) => {
    attempts.push(attempt);
    return attempts.length <= failures ? Promise.reject(error()) : Promise.resolve('ok');
  };
  return { fn, attempts };
}

describe('retry', () => {
  let sleeps: number[];
  let metrics: Metrics;
  let options: RetryOptions & { baseDelayMs: number };

  beforeEach(() => {
    sleeps = [];
    metrics = createMetrics('chat_retrytest');
    options = {
      idempotent: true,
      attempts: 5,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      operation: 'fetch jwks',
      metrics,
      random: () => 0.5,
      sleep: (ms) => Promise.resolve(void sleeps.push(ms)),
    };
  });

  const countOf = async (outcome: string) => {
    const metric = await metrics.registry.getSingleMetric('chat_retrytest_retry_attempts_total')!.get();
    return (
      metric.values.find((v) => v.labels.outcome === outcome && v.labels.operation === 'fetch jwks')?.value ??
      0
    );
  };

  it('retries until success, backing off exponentially with full jitter', async () => {
    const { fn, attempts } = flaky(3);
    expect(await retry(fn, options)).to.equal('ok');
    expect(attempts).to.deep.equal([1, 2, 3, 4]);
    // random() * min(max, base * 2^(n-1)) with random() = 0.5
    expect(sleeps).to.deep.equal([50, 100, 200]);
    expect(await countOf('retry')).to.equal(3);
    expect(await countOf('success')).to.equal(1);
  });

  it('caps the backoff at maxDelayMs and scales it by random()', async () => {
    const draws = [0, 0.25, 0.999, 1 - Number.EPSILON];
    const { fn } = flaky(4);
    await retry(fn, { ...options, maxDelayMs: 300, random: () => draws.shift()! });
    expect(sleeps).to.deep.equal([0, 0.25 * 200, 0.999 * 300, (1 - Number.EPSILON) * 300]);
  });

  describe('with an explicit delaysMs schedule', () => {
    const scheduled = (
      draw: () => number,
      extra: Partial<{ jitterRatio: number; maxDelayMs: number }> = {},
    ) => {
      const { baseDelayMs: _exponential, ...common } = options;
      return { ...common, ...extra, delaysMs: [1000, 5000, 15_000], random: draw };
    };

    it('waits each delay of the schedule in turn, repeating the last one', async () => {
      const { fn, attempts } = flaky(4);
      expect(
        await retry(
          fn,
          scheduled(() => 0.5),
        ),
      ).to.equal('ok');
      expect(attempts).to.deep.equal([1, 2, 3, 4, 5]);
      // random() = 0.5 is the middle of the jitter: the schedule itself, not capped by maxDelayMs (1000).
      expect(sleeps).to.deep.equal([1000, 5000, 15_000, 15_000]);
      expect(await countOf('retry')).to.equal(4);
    });

    it('jitters each delay by ±20 % by default, or by jitterRatio', async () => {
      const draws = [0, 0.75, 1 - Number.EPSILON];
      await retry(
        flaky(3).fn,
        scheduled(() => draws.shift()!),
      );
      expect(sleeps[0]).to.equal(800);
      expect(sleeps[1]).to.equal(5500);
      expect(sleeps[2]).to.be.closeTo(18_000, 1e-6);

      sleeps = [];
      const wide = [0, 1 - Number.EPSILON];
      await retry(
        flaky(2).fn,
        scheduled(() => wide.shift()!, { jitterRatio: 0.5 }),
      );
      expect(sleeps[0]).to.equal(500);
      expect(sleeps[1]).to.be.closeTo(7500, 1e-6);

      sleeps = [];
      await retry(flaky(3).fn, scheduled(Math.random, { jitterRatio: 0 }));
      expect(sleeps).to.deep.equal([1000, 5000, 15_000]);
    });

    it('still waits what the error asks for, and gives up when that exceeds maxDelayMs', async () => {
      const errors = [Object.assign(new Error('429'), { retryAfterMs: 750 }), new Error('ECONNRESET')];
      await retry(
        flaky(2, () => errors.shift()!).fn,
        scheduled(() => 0.5),
      );
      expect(sleeps).to.deep.equal([750, 5000]);

      const tooLong = flaky(1, () => Object.assign(new Error('429'), { retryAfterMs: 20_000 }));
      await retry(
        tooLong.fn,
        scheduled(() => 0.5, { maxDelayMs: 15_000 }),
      ).catch(() => undefined);
      expect(tooLong.attempts).to.have.length(1);
      expect(await countOf('retry_after_too_long')).to.equal(1);
    });

    it('refuses an empty or negative schedule, a jitterRatio outside 0-1, and mixing it with baseDelayMs', async () => {
      const refused = async (bad: object) => {
        const { fn, attempts } = flaky(0);
        const error = await retry(fn, { ...scheduled(() => 0.5), ...bad }).catch((err: unknown) => err);
        expect(attempts).to.be.empty;
        return error;
      };
      expect(await refused({ delaysMs: [] }))
        .to.be.instanceOf(TypeError)
        .with.property('message')
        .match(/delaysMs/);
      expect(await refused({ delaysMs: [100, -1] })).to.be.instanceOf(TypeError);
      expect(await refused({ delaysMs: [Number.NaN] })).to.be.instanceOf(TypeError);
      expect(await refused({ jitterRatio: 1.5 }))
        .to.be.instanceOf(TypeError)
        .with.property('message')
        .match(/jitterRatio/);
      expect(await refused({ jitterRatio: Number.NaN })).to.be.instanceOf(TypeError);
      expect(await refused({ baseDelayMs: 100 }))
        .to.be.instanceOf(TypeError)
        .with.property('message')
        .match(/exclude/);
      // @ts-expect-error a schedule and an exponential base exclude each other by type too
      const both: RetryOptions = { ...scheduled(() => 0.5), baseDelayMs: 100 };
      expect(both.delaysMs).to.have.length(3);
    });
  });

  it('gives up after the last attempt with the last error', async () => {
    const { fn, attempts } = flaky(10, () => new Error(`failure ${attempts.length}`));
    const error = await retry(fn, { ...options, attempts: 3 }).catch((err: unknown) => err);
    expect((error as Error).message).to.equal('failure 3');
    expect(attempts).to.have.length(3);
    expect(sleeps).to.have.length(2);
    expect(await countOf('exhausted')).to.equal(1);
  });

  it('does not retry errors that are not retryable (4xx by default)', async () => {
    const { fn, attempts } = flaky(1, () => new AppError('FORBIDDEN', 'not a member'));
    const error = await retry(fn, options).catch((err: unknown) => err);
    expect(error).to.include({ code: 'FORBIDDEN' });
    expect(attempts).to.have.length(1);
    expect(await countOf('not_retryable')).to.equal(1);

    const custom = flaky(1, () => new Error('EAI_AGAIN'));
    const customError = await retry(custom.fn, { ...options, retryable: () => false }).catch(
      (err: unknown) => err,
    );
    expect((customError as Error).message).to.equal('EAI_AGAIN');
  });

  it('retries 429 and 5xx, waiting what the error asks for instead of the backoff', async () => {
    const rateLimited = Object.assign(new Error('429'), { retryAfterMs: 750 });
    const unavailable = new AppError('DEPENDENCY_UNAVAILABLE', 'fcm 503', { retryAfterSeconds: 0.2 });
    const errors = [rateLimited, unavailable, new AppError('INTERNAL', 'x')];
    const { fn } = flaky(3, () => errors.shift()!);
    expect(await retry(fn, options)).to.equal('ok');
    expect(sleeps).to.deep.equal([750, 1000, 200]);
  });

  it('gives up when the requested wait is longer than maxDelayMs', async () => {
    const { fn, attempts } = flaky(1, () => Object.assign(new Error('429'), { retryAfterMs: 60_000 }));
    await retry(fn, options).catch(() => undefined);
    expect(attempts).to.have.length(1);
    expect(sleeps).to.be.empty;
    expect(await countOf('retry_after_too_long')).to.equal(1);
  });

  it('stops when the signal aborts, during an attempt or the backoff', async () => {
    const controller = new AbortController();
    const { fn, attempts } = flaky(10);
    const abortingSleep = () => {
      controller.abort(new Error('request cancelled'));
      return Promise.reject(controller.signal.reason as Error);
    };
    const error = await retry(fn, { ...options, signal: controller.signal, sleep: abortingSleep }).catch(
      (err: unknown) => err,
    );
    expect((error as Error).message).to.equal('request cancelled');
    expect(attempts).to.have.length(1);

    const aborted = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];
    const during = retry(
      (_attempt, signal) => {
        seen.push(signal);
        aborted.abort(new Error('deadline'));
        return Promise.reject(new Error('ECONNRESET'));
      },
      { ...options, signal: aborted.signal },
    );
    expect(((await during.catch((err: unknown) => err)) as Error).message).to.equal('ECONNRESET');
    expect(seen).to.deep.equal([aborted.signal]);
    expect(await countOf('aborted')).to.equal(1);
  });

  it('sleeps for real by default, and the sleep stops on abort', async () => {
    const controller = new AbortController();
    const { fn } = flaky(10);
    setTimeout(() => controller.abort(new Error('cancelled')), 20);
    const started = Date.now();
    const { sleep: _injected, ...realSleep } = options;
    const error = await retry(fn, {
      ...realSleep,
      baseDelayMs: 60_000,
      maxDelayMs: 60_000,
      signal: controller.signal,
    }).catch((err: unknown) => err);
    expect((error as Error).message).to.equal('cancelled');
    expect(Date.now() - started).to.be.below(2000);
  });

  it('refuses, by type and at runtime, to retry an operation not marked idempotent', async () => {
    const { fn, attempts } = flaky(0);
    // @ts-expect-error idempotent must be the literal true
    const notIdempotent: RetryOptions = { ...options, idempotent: false };
    const error = await retry(fn, notIdempotent).catch((err: unknown) => err);
    expect(error).to.be.instanceOf(TypeError);
    expect((error as Error).message).to.match(/not marked idempotent/);
    expect(attempts).to.be.empty;
  });
});
