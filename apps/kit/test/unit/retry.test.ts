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
  let options: RetryOptions;

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
