import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '@chatcluster/harness';
import { isAppError } from '@chatcluster/kit';
import { expect } from 'chai';
import pg from 'pg';
import { Api, eventually, uniqueName, type ErrorBody, type SessionBody } from './client.js';
import { bootAuth, untilRefused, type TestAuth } from './support.js';

interface Readiness {
  status: string;
  checks: Record<string, { ok: boolean; error?: string }>;
}

// Servers of its own: restarting the shared ones would pull them from under other files' data.
describe('auth: PostgreSQL and Redis going away mid-run', function () {
  let pgServer: PostgresServer;
  let redisServer: RedisServer;
  let auth: TestAuth;
  let api: Api;
  let user: SessionBody;

  before(async () => {
    [pgServer, redisServer] = await Promise.all([startPostgres(), startRedis()]);
    auth = await bootAuth('resilience', {
      postgresUrl: pgServer.url,
      redisUrl: redisServer.url,
      env: { PG_BREAKER_RESET_MS: '1000', LOGIN_ACCOUNT_LIMIT: '3' },
    });
    api = new Api(auth.url);
    user = await api.signup(uniqueName('steady'));
    // Ready once, as the kubelet's probe would find it before traffic: dependency checks only gate
    // readiness until then, so the outages below leave it in rotation.
    expect((await api.get<Readiness>('/health/readiness')).body.status).to.equal('ok');
  });
  after(async () => {
    await auth?.stop();
    await redisServer?.stop();
    await pgServer?.stop();
  });

  it('answers 503 DEPENDENCY_UNAVAILABLE with Retry-After while PostgreSQL is down, and recovers by itself', async () => {
    expect((await api.get('/api/v1/channels', user.accessToken)).status).to.equal(200);

    // Traffic keeps flowing while PostgreSQL stops: every answer must be a success or a clean 503.
    let running = true;
    const seen = new Map<number, number>();
    const traffic = (async () => {
      while (running) {
        const res = await api.get('/api/v1/channels', user.accessToken);
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        if (res.status === 503) {
          expect(res.headers.get('retry-after'), 'Retry-After on 503').to.match(/^\d+$/);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    try {
      // The harness stops PostgreSQL (fast shutdown), keeps it down, then starts it on the same port and data.
      const restarting = pgServer.restart({ downForMs: 5_000 });
      try {
        await untilRefused(pgServer.port);
        const read = await api.get<ErrorBody>('/api/v1/channels', user.accessToken);
        expect(read.status).to.equal(503);
        expect(read.body.error.code).to.equal('DEPENDENCY_UNAVAILABLE');
        expect(Number(read.headers.get('retry-after'))).to.be.at.least(1);
        expect(read.body.error.retryAfterSeconds).to.equal(Number(read.headers.get('retry-after')));

        const write = await api.post<ErrorBody>(
          '/api/v1/channels',
          { name: 'during outage' },
          user.accessToken,
        );
        expect(write.status).to.equal(503);
        expect(write.body.error.code).to.equal('DEPENDENCY_UNAVAILABLE');

        // More sign-ins than the account's limit (3): none checked a password, so none counts.
        for (let i = 0; i < 5; i += 1) {
          const login = await api.post<ErrorBody>('/api/v1/auth/login', {
            username: user.user.username,
            password: 'correct horse battery',
          });
          expect(login.status).to.equal(503);
          expect(login.body.error.code).to.equal('DEPENDENCY_UNAVAILABLE');
        }

        // Still in rotation (every replica would fail alike), naming PostgreSQL as the failing check.
        const readiness = await api.get<Readiness>('/health/readiness');
        expect(readiness.status).to.equal(200);
        expect(readiness.body.status).to.equal('degraded');
        expect(readiness.body.checks.postgres?.ok).to.equal(false);
        expect(readiness.body.checks.postgres?.error).to.be.a('string').and.not.empty;
        expect(readiness.body.checks.redis?.ok).to.equal(true);
        expect((await api.get('/health/liveness')).status).to.equal(200);
        // Keys are served from memory: other services keep verifying tokens.
        expect((await api.get('/.well-known/jwks.json')).status).to.equal(200);
      } finally {
        await restarting;
      }

      // No restart of auth, no manual step: the breaker's trial call finds PostgreSQL back.
      const back = await eventually(
        () => api.get('/api/v1/channels', user.accessToken),
        (r) => r.status === 200,
        30_000,
        250,
      );
      expect(back.status, 'reads resume without a restart').to.equal(200);
    } finally {
      running = false;
      await traffic;
    }
    expect(
      [...seen.keys()].every((s) => s === 200 || s === 503),
      JSON.stringify([...seen]),
    ).to.equal(true);
    expect(seen.get(503) ?? 0).to.be.greaterThan(0);

    const created = await api.post('/api/v1/channels', { name: 'after outage' }, user.accessToken);
    expect(created.status).to.equal(201);
    const signedIn = await api.post('/api/v1/auth/login', {
      username: user.user.username,
      password: 'correct horse battery',
    });
    expect(signedIn.status, 'sign-in not locked out by the attempts during the outage').to.equal(200);
    const recovered = await eventually(
      () => api.get<Readiness>('/health/readiness'),
      (r) => r.status === 200 && r.body.status === 'ok',
      10_000,
    );
    expect(recovered.body.status).to.equal('ok');
    expect(recovered.body.checks.postgres?.ok).to.equal(true);
  });

  it('keeps signing in and changing memberships while Redis is down, and catches the cache up afterwards', async () => {
    const owner = await api.signup(uniqueName('owner'));
    const ch = await api.post<{ id: string }>('/api/v1/channels', { name: 'redisless' }, owner.accessToken);
    const joiner = await api.signup(uniqueName('joiner'));

    const restarting = redisServer.restart({ downForMs: 4_000 });
    try {
      await untilRefused(redisServer.port);
      const login = await api.post('/api/v1/auth/login', {
        username: joiner.user.username,
        password: 'correct horse battery',
      });
      expect(login.status, 'login falls back to the local limiter').to.equal(200);
      const joined = await api.post(`/api/v1/channels/${ch.body.id}/join`, {}, joiner.accessToken);
      expect(joined.status, 'the change commits in PostgreSQL').to.equal(200);
      const readiness = await api.get<Readiness>('/health/readiness');
      expect(readiness.status, 'still in rotation').to.equal(200);
      expect(readiness.body.status).to.equal('degraded');
      expect(readiness.body.checks.redis?.ok).to.equal(false);
      expect(readiness.body.checks.postgres?.ok).to.equal(true);
      const metrics = await api.call<string>('GET', '/metrics');
      expect(metrics.body).to.match(/^chat_auth_rate_limit_local_decisions_total\{limiter="auth"\} [1-9]/m);
      expect(metrics.body).to.match(/^chat_auth_readiness_check_ok\{check="redis"\} 0$/m);
      expect(metrics.body).to.match(
        /^chat_auth_change_notifications_failed_total\{what="membership cache write"\} [1-9]/m,
      );
    } finally {
      await restarting;
    }

    // the notifier's background retry writes the new membership once Redis is back
    const cached = await eventually(
      () => auth.redis.get(`chat:membership:${ch.body.id}:${joiner.user.id}`).catch(() => null),
      (v) => v !== null && (JSON.parse(v) as { member: boolean }).member,
      20_000,
      250,
    );
    expect(cached, 'cache entry written after Redis came back').to.be.a('string');
    expect((JSON.parse(cached!) as { member: boolean }).member).to.equal(true);
  });

  it('retries a read whose connection broke, and never a write', async () => {
    const admin = new pg.Client({ connectionString: pgServer.url });
    await admin.connect();
    // Kills the backend running `marker` once it shows up: a failover or restart, for one connection.
    const killWhenRunning = async (marker: string): Promise<void> => {
      for (let i = 0; i < 100; i += 1) {
        const res = await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`,
          [`%${marker}%`],
        );
        if (res.rowCount) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`${marker} never ran`);
    };
    try {
      let reads = 0;
      const [value] = await Promise.all([
        auth.app.db.read('test.broken_read', async (sql) => {
          reads += 1;
          const res = await sql.query<{ n: number }>(
            `SELECT 7 AS n, pg_sleep(${reads === 1 ? 2 : 0}) /* read-marker */`,
          );
          return res.rows[0]!.n;
        }),
        killWhenRunning('read-marker'),
      ]);
      expect(value).to.equal(7);
      expect(reads, 'the read ran again on a fresh connection').to.equal(2);

      let writes = 0;
      const [failed] = await Promise.all([
        auth.app.db
          .write('test.broken_write', async (sql) => {
            writes += 1;
            await sql.query('SELECT pg_sleep(2) /* write-marker */');
          })
          .catch((err: unknown) => err),
        killWhenRunning('write-marker'),
      ]);
      expect(writes, 'a write is never repeated').to.equal(1);
      expect(isAppError(failed, 'DEPENDENCY_UNAVAILABLE')).to.equal(true);

      const metrics = (await api.call<string>('GET', '/metrics')).body;
      expect(metrics).to.match(
        /^chat_auth_retry_attempts_total\{operation="test\.broken_read",outcome="retry"\} 1$/m,
      );
      // Never retried: no retry attempt of the write, though its one call is timed like every store call.
      expect(metrics).to.not.match(/^chat_auth_retry_attempts_total\{operation="test\.broken_write"/m);
      expect(metrics).to.match(
        /^chat_auth_store_call_duration_seconds_count\{operation="test\.broken_write"\} 1$/m,
      );
    } finally {
      await admin.end();
    }
  });
});
