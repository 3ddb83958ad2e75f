import { once } from 'node:events';
import { expect } from 'chai';
import { AppError, createBreaker, createMetrics, type Metrics } from '../../src/index.js';

describe('createBreaker', () => {
  let metrics: Metrics;
  let breakers: { shutdown(): void }[];
  let calls: number;
  let failing: boolean;
  const dependency = (answer: string) => {
    calls++;
    return failing ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve(answer);
  };

  beforeEach(() => {
    metrics = createMetrics('chat_breakertest');
    breakers = [];
    calls = 0;
    failing = false;
  });

  afterEach(() => breakers.forEach((b) => b.shutdown()));

  function breaker(options: Parameters<typeof createBreaker>[2]) {
    const created = createBreaker('fcm', dependency, options, metrics);
    breakers.push(created);
    return created;
  }

  const gauge = async () =>
    (await metrics.registry.getSingleMetric('chat_breakertest_circuit_breaker_state')!.get()).values.find(
      (v) => v.labels.breaker === 'fcm',
    )?.value;
  const events = async (event: string) =>
    (
      await metrics.registry.getSingleMetric('chat_breakertest_circuit_breaker_events_total')!.get()
    ).values.find((v) => v.labels.breaker === 'fcm' && v.labels.event === event)?.value ?? 0;

  it('passes calls and results through while closed', async () => {
    const fcm = breaker({});
    expect(await fcm.fire('sent')).to.equal('sent');
    expect(fcm.state).to.equal('closed');
    expect(await gauge()).to.equal(0);
    expect(await events('success')).to.equal(1);
  });

  it('opens after N consecutive failures and then fails fast with CIRCUIT_OPEN', async () => {
    // The percentage rule alone would never open it here.
    const fcm = breaker({ consecutiveFailures: 3, errorThresholdPercentage: 100, resetTimeout: 10_000 });
    failing = true;
    for (let i = 0; i < 2; i++) await fcm.fire('x').catch(() => undefined);
    expect(fcm.state).to.equal('closed');
    await fcm.fire('x').catch(() => undefined);
    expect(fcm.state).to.equal('open');
    expect(await gauge()).to.equal(2);

    const rejected = await fcm.fire('x').catch((err: unknown) => err);
    expect(rejected).to.be.instanceOf(AppError);
    expect(rejected).to.include({ code: 'CIRCUIT_OPEN', status: 503, message: 'circuit fcm is open' });
    expect((rejected as AppError).retryAfterSeconds).to.be.within(9, 10);
    expect(calls, 'the dependency is not called while open').to.equal(3);
    expect(await events('failure')).to.equal(3);
    expect(await events('open')).to.equal(1);
    expect(await events('reject')).to.equal(1);
  });

  it('a success resets the run of failures', async () => {
    const fcm = breaker({ consecutiveFailures: 2, errorThresholdPercentage: 100 });
    failing = true;
    await fcm.fire('x').catch(() => undefined);
    failing = false;
    await fcm.fire('x');
    failing = true;
    await fcm.fire('x').catch(() => undefined);
    expect(fcm.state).to.equal('closed');
  });

  it('opens on the error percentage once the volume threshold is met', async () => {
    const fcm = breaker({ errorThresholdPercentage: 50, volumeThreshold: 4 });
    await fcm.fire('a');
    failing = true;
    await fcm.fire('b').catch(() => undefined);
    await fcm.fire('c').catch(() => undefined);
    expect(fcm.state, 'below the volume threshold').to.equal('closed');
    await fcm.fire('d').catch(() => undefined);
    expect(fcm.state).to.equal('open');
  });

  it('half-opens after resetTimeout and closes on a successful trial call', async () => {
    const fcm = breaker({ consecutiveFailures: 1, resetTimeout: 30 });
    failing = true;
    await fcm.fire('x').catch(() => undefined);
    expect(fcm.state).to.equal('open');
    await once(fcm.circuit, 'halfOpen');
    expect(fcm.state).to.equal('halfOpen');
    expect(await gauge()).to.equal(1);
    failing = false;
    expect(await fcm.fire('trial')).to.equal('trial');
    expect(fcm.state).to.equal('closed');
    expect(await gauge()).to.equal(0);
    expect(await events('halfOpen')).to.equal(1);
    expect(await events('close')).to.equal(1);
  });

  it('opens when too many calls in the window answer, but slowly, and then sheds with CIRCUIT_OPEN', async () => {
    let delayMs = 0;
    const mongo = createBreaker(
      'mongodb',
      (answer: string) => new Promise<string>((resolve) => setTimeout(() => resolve(answer), delayMs)),
      { slowCallMs: 40, slowCallRatePercentage: 50, volumeThreshold: 4, resetTimeout: 10_000 },
      metrics,
    );
    breakers.push(mongo);
    for (let i = 0; i < 4; i++) expect(await mongo.fire(`fast ${i}`)).to.equal(`fast ${i}`);
    delayMs = 60;
    // Slow calls still answer; the circuit opens once half the window's calls were slow.
    for (let i = 0; i < 3; i++) expect(await mongo.fire(`slow ${i}`)).to.equal(`slow ${i}`);
    expect(mongo.state, '3 slow of 7').to.equal('closed');
    expect(await mongo.fire('slow 3')).to.equal('slow 3');
    expect(mongo.state, '4 slow of 8').to.equal('open');
    const shed = await mongo.fire('shed').catch((e: unknown) => e);
    expect(shed).to.be.instanceOf(AppError).and.include({ code: 'CIRCUIT_OPEN' });
  });

  it('judges the slow share after slowCallMinimumCalls, apart from the error volume threshold', async () => {
    const mongo = createBreaker(
      'mongodb',
      () => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 30)),
      { slowCallMs: 20, slowCallMinimumCalls: 2, volumeThreshold: 10, resetTimeout: 10_000 },
      metrics,
    );
    breakers.push(mongo);
    await mongo.fire();
    expect(mongo.state).to.equal('closed');
    await mongo.fire();
    expect(mongo.state).to.equal('open');
  });

  it('counts no call as slow without slowCallMs', async () => {
    const mongo = createBreaker(
      'mongodb',
      () => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 30)),
      { volumeThreshold: 1 },
      metrics,
    );
    breakers.push(mongo);
    for (let i = 0; i < 3; i++) await mongo.fire();
    expect(mongo.state).to.equal('closed');
  });

  it('does not count errors that isFailure rejects (e.g. 4xx answers)', async () => {
    const fcm = createBreaker(
      'fcm',
      (status: number) =>
        Promise.reject(
          new AppError(status === 400 ? 'VALIDATION_FAILED' : 'DEPENDENCY_UNAVAILABLE', `status ${status}`),
        ),
      { consecutiveFailures: 2, isFailure: (err) => !(err instanceof AppError && err.status < 500) },
      metrics,
    );
    breakers.push(fcm);
    for (let i = 0; i < 5; i++) {
      const err = await fcm.fire(400).catch((e: unknown) => e);
      expect(err, 'the original error reaches the caller').to.include({ code: 'VALIDATION_FAILED' });
    }
    expect(fcm.state).to.equal('closed');
    await fcm.fire(503).catch(() => undefined);
    await fcm.fire(503).catch(() => undefined);
    expect(fcm.state).to.equal('open');
  });

  it('judges a closed circuit by calls started after it closed: an outage timing out late does not reopen it', async () => {
    // Each call waits for its own release, so calls from the outage can settle after recovery.
    const pending: { reject: (e: Error) => void; resolve: (v: string) => void }[] = [];
    const mongo = createBreaker(
      'fcm',
      () => new Promise<string>((resolve, reject) => pending.push({ resolve, reject })),
      { consecutiveFailures: 2, slowCallMs: 10_000, resetTimeout: 30 },
      metrics,
    );
    breakers.push(mongo);
    const outage = [mongo.fire(), mongo.fire(), mongo.fire(), mongo.fire()].map((p) =>
      p.catch((e: unknown) => e),
    );
    pending.shift()!.reject(new Error('ETIMEDOUT'));
    pending.shift()!.reject(new Error('ETIMEDOUT'));
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(mongo.state).to.equal('open');
    await once(mongo.circuit, 'halfOpen');
    // A stale timeout while half-open: not the trial call, so it must not reopen the circuit.
    pending.shift()!.reject(new Error('ETIMEDOUT'));
    await new Promise((r) => setImmediate(r));
    expect(mongo.state, 'a stale failure while half-open').to.not.equal('open');
    const trial = mongo.fire();
    pending.splice(1, 1)[0]!.resolve('trial');
    // The last stale call fails after the trial; it must not count as a failure either.
    expect(await trial).to.equal('trial');
    expect(mongo.state).to.equal('closed');
    pending.shift()!.reject(new Error('ETIMEDOUT'));
    const stale = await outage[3];
    expect(stale, 'the caller still gets its own error')
      .to.be.instanceOf(Error)
      .and.include({ message: 'ETIMEDOUT' });
    const next = mongo.fire();
    pending.shift()!.reject(new Error('ECONNRESET'));
    await next.catch(() => undefined);
    expect(mongo.state, 'one fresh failure of two needed').to.equal('closed');
    expect(await events('failure'), 'only the fresh calls count').to.equal(3);
  });

  it('fails a slow trial call: the circuit opens again, and the caller still gets the answer', async () => {
    let delayMs = 60;
    const mongo = createBreaker(
      'fcm',
      (answer: string) => new Promise<string>((resolve) => setTimeout(() => resolve(answer), delayMs)),
      { slowCallMs: 40, slowCallMinimumCalls: 1, resetTimeout: 30 },
      metrics,
    );
    breakers.push(mongo);
    expect(await mongo.fire('slow')).to.equal('slow');
    expect(mongo.state).to.equal('open');
    await once(mongo.circuit, 'halfOpen');
    expect(await mongo.fire('slow trial')).to.equal('slow trial');
    expect(mongo.state, 'after a slow trial').to.equal('open');
    delayMs = 0;
    await once(mongo.circuit, 'halfOpen');
    expect(await mongo.fire('fast trial')).to.equal('fast trial');
    expect(mongo.state, 'after a fast trial').to.equal('closed');
  });

  it('turns its own timeout into TIMEOUT', async () => {
    const slow = createBreaker(
      'slow',
      () => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 200)),
      {
        timeout: 20,
      },
    );
    breakers.push(slow);
    const err = await slow.fire().catch((e: unknown) => e);
    expect(err).to.include({ code: 'TIMEOUT', status: 504 });
  });
});
