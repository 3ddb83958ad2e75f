import { expect } from 'chai';
import {
  createMetrics,
  Health,
  mongoCheck,
  postgresCheck,
  readinessHttpStatus,
  redisCheck,
} from '../../src/index.js';

describe('Health', () => {
  it('is ok when every check passes, with each check reported', async () => {
    const health = new Health()
      .addCheck('postgres', () => Promise.resolve(), 1000)
      .addCheck('redis', () => Promise.resolve(), 1000);
    const report = await health.readiness();
    expect(report.status).to.equal('ok');
    expect(Object.keys(report.checks)).to.deep.equal(['postgres', 'redis']);
    expect(report.checks.postgres).to.include({ ok: true });
    expect(report.checks.postgres!.durationMs).to.be.a('number');
  });

  it('reports the note a passing check resolves with as its detail, without failing readiness', async () => {
    const health = new Health()
      .addCheck('sendgrid', () => Promise.resolve('disabled: SENDGRID_API_KEY not set'), 1000)
      .addCheck('redis', () => Promise.resolve(), 1000);
    const report = await health.readiness();
    expect(report.status).to.equal('ok');
    expect(report.checks.sendgrid).to.include({ ok: true, detail: 'disabled: SENDGRID_API_KEY not set' });
    expect(report.checks.redis).to.not.have.property('detail');
  });

  it('is unavailable and names the failing dependency before it was ever ready', async () => {
    const health = new Health()
      .addCheck('postgres', () => Promise.resolve(), 1000)
      .addCheck('mongodb', () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:27017')), 1000);
    const report = await health.readiness();
    expect(report.status).to.equal('unavailable');
    expect(report.checks.mongodb).to.include({ ok: false, error: 'ECONNREFUSED 127.0.0.1:27017' });
    expect(report.checks.postgres!.ok).to.be.true;
    expect(readinessHttpStatus(report)).to.equal(503);
  });

  describe('once it has been ready', () => {
    let postgresUp: boolean;
    const postgres = () =>
      postgresUp ? Promise.resolve() : Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));

    beforeEach(() => {
      postgresUp = true;
    });

    it('stays ready but degraded while a check fails, naming it with its error, and is ok again after', async () => {
      const health = new Health()
        .addCheck('postgres', postgres, 1000)
        .addCheck('redis', () => Promise.resolve(), 1000);
      expect((await health.readiness()).status).to.equal('ok');

      postgresUp = false;
      const degraded = await health.readiness();
      expect(degraded.status).to.equal('degraded');
      expect(degraded).to.not.have.property('reason');
      expect(degraded.checks.postgres).to.include({
        ok: false,
        error: 'connect ECONNREFUSED 127.0.0.1:5432',
      });
      expect(degraded.checks.redis!.ok).to.be.true;
      expect(readinessHttpStatus(degraded)).to.equal(200);

      postgresUp = true;
      expect((await health.readiness()).status).to.equal('ok');
    });

    it('is unavailable while a critical check fails', async () => {
      const health = new Health()
        .addCheck({ name: 'postgres', check: postgres, timeoutMs: 1000, critical: true })
        .addCheck('redis', () => Promise.resolve(), 1000);
      expect((await health.readiness()).status).to.equal('ok');

      postgresUp = false;
      const report = await health.readiness();
      expect(report.status).to.equal('unavailable');
      expect(report.checks.postgres).to.include({ ok: false });
      expect(readinessHttpStatus(report)).to.equal(503);
    });

    it('is degraded, not unavailable, when only a non-critical check fails beside a passing critical one', async () => {
      let redisUp = true;
      const health = new Health()
        .addCheck({ name: 'postgres', check: postgres, timeoutMs: 1000, critical: true })
        .addCheck('redis', () => (redisUp ? Promise.resolve() : Promise.reject(new Error('down'))), 1000);
      await health.readiness();
      redisUp = false;
      expect((await health.readiness()).status).to.equal('degraded');
    });

    it('answers unavailable at once when shutting down, though it was ready', async () => {
      const health = new Health().addCheck('postgres', postgres, 1000);
      expect((await health.readiness()).status).to.equal('ok');
      health.markShuttingDown();
      const report = await health.readiness();
      expect(report).to.deep.equal({ status: 'unavailable', reason: 'shutting down', checks: {} });
      expect(readinessHttpStatus(report)).to.equal(503);
    });
  });

  it('records readiness_check_ok per check on every run', async () => {
    const metrics = createMetrics('chat_healthtest');
    let redisUp = true;
    const health = new Health({ metrics })
      .addCheck('postgres', () => Promise.resolve(), 1000)
      .addCheck('redis', () => (redisUp ? Promise.resolve() : Promise.reject(new Error('down'))), 1000);
    await health.readiness();
    let text = await metrics.registry.metrics();
    expect(text).to.include('chat_healthtest_readiness_check_ok{check="postgres"} 1');
    expect(text).to.include('chat_healthtest_readiness_check_ok{check="redis"} 1');
    redisUp = false;
    await health.readiness();
    text = await metrics.registry.metrics();
    expect(text).to.include('chat_healthtest_readiness_check_ok{check="postgres"} 1');
    expect(text).to.include('chat_healthtest_readiness_check_ok{check="redis"} 0');
  });

  it('gives up on a check at its own timeout and aborts it', async () => {
    let abortedWith: unknown;
    const hanging = (signal: AbortSignal) =>
      new Promise<void>((_, reject) => {
        signal.addEventListener('abort', () => {
          abortedWith = signal.reason;
          reject(new Error('aborted'));
        });
      });
    const health = new Health()
      .addCheck('redis', hanging, 30)
      .addCheck('postgres', () => Promise.resolve(), 5000);
    const report = await health.readiness();
    expect(report.checks.redis).to.include({ ok: false, error: 'redis check timed out after 30 ms' });
    expect(report.checks.redis!.durationMs).to.be.at.least(25).and.below(2000);
    expect(abortedWith).to.be.instanceOf(Error);
    expect(report.checks.postgres!.ok).to.be.true;
  });

  it('runs the checks in parallel', async () => {
    // Each check waits until the other has started: run one after the other, both would time out.
    let started = 0;
    const meetTheOther = async (signal: AbortSignal) => {
      started++;
      while (started < 2) {
        if (signal.aborted) throw new Error('ran alone');
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    };
    const health = new Health().addCheck('a', meetTheOther, 1000).addCheck('b', meetTheOther, 1000);
    const report = await health.readiness();
    expect(report.status).to.equal('ok');
  });

  it('answers unavailable at once after markShuttingDown, without running checks', async () => {
    let ran = false;
    const health = new Health().addCheck('postgres', () => Promise.resolve(void (ran = true)), 1000);
    health.markShuttingDown();
    expect(health.shuttingDown).to.be.true;
    expect(await health.readiness()).to.deep.equal({
      status: 'unavailable',
      reason: 'shutting down',
      checks: {},
    });
    expect(ran).to.be.false;
  });

  it('refuses two checks with the same name', () => {
    const health = new Health().addCheck('redis', () => Promise.resolve(), 100);
    expect(() => health.addCheck('redis', () => Promise.resolve(), 100)).to.throw(/already registered/);
  });

  describe('ready-made checks', () => {
    it('postgresCheck runs SELECT 1 within 2 s', async () => {
      const queries: string[] = [];
      const check = postgresCheck({ query: (sql: string) => Promise.resolve(queries.push(sql)) });
      expect(check).to.include({ name: 'postgres', timeoutMs: 2000 });
      await check.check(new AbortController().signal);
      expect(queries).to.deep.equal(['SELECT 1']);
    });

    it('redisCheck wants PONG within 1 s', async () => {
      const check = redisCheck({ ping: () => Promise.resolve('PONG') });
      expect(check).to.include({ name: 'redis', timeoutMs: 1000 });
      await check.check(new AbortController().signal);
      const report = await new Health()
        .addCheck(redisCheck({ ping: () => Promise.resolve('LOADING') }))
        .readiness();
      expect(report.checks.redis).to.include({ ok: false, error: 'unexpected PING reply "LOADING"' });
    });

    it('mongoCheck pings the database within 2 s, and fails before the connection is up', async () => {
      const commands: unknown[] = [];
      const connected = {
        db: { command: (command: { ping: 1 }) => Promise.resolve(commands.push(command)) },
      };
      const check = mongoCheck(connected);
      expect(check).to.include({ name: 'mongodb', timeoutMs: 2000 });
      await check.check(new AbortController().signal);
      expect(commands).to.deep.equal([{ ping: 1 }]);
      const report = await new Health().addCheck(mongoCheck({ db: undefined })).readiness();
      expect(report.checks.mongodb).to.include({ ok: false, error: 'not connected' });
    });
  });
});
