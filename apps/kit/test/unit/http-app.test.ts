import { expect } from 'chai';
import { Router } from 'express';
import { z } from 'zod';
import {
  AppError,
  createHttpApp,
  createMetrics,
  defineErrorCodes,
  finishHttpApp,
  Health,
  validate,
  type ErrorBody,
} from '../../src/index.js';
import { listen, type TestServer } from '../support/http.js';
import { memoryLog, type LogLine } from '../support/memory-log.js';

const appErrors = defineErrorCodes({ TEST_CHANNEL_GONE: 410 });

describe('createHttpApp', () => {
  let server: TestServer;
  let lines: LogLine[];
  let postgresUp = true;

  before(async () => {
    const memory = memoryLog('auth');
    lines = memory.lines;
    const health = new Health()
      .addCheck(
        'postgres',
        () => (postgresUp ? Promise.resolve() : Promise.reject(new Error('connection refused'))),
        1000,
      )
      .addCheck('redis', () => Promise.resolve(), 1000);
    const app = createHttpApp({
      service: 'auth',
      logger: memory.logger,
      metrics: createMetrics('chat_apptest'),
      health,
      bodyLimit: 64,
    });
    const routes = Router();
    routes.get('/gone', async () => {
      await Promise.resolve();
      throw appErrors.TEST_CHANNEL_GONE('channel was deleted');
    });
    routes.get('/crash', async () => {
      await Promise.resolve();
      throw new Error('db password is hunter2');
    });
    routes.get('/busy', () => {
      throw new AppError('RATE_LIMITED', 'slow down', { retryAfterSeconds: 7 });
    });
    routes.get('/down', () => {
      throw new AppError('DEPENDENCY_UNAVAILABLE', 'redis is down');
    });
    routes.post('/channels', (req, res) => {
      const body = validate(z.object({ name: z.string().min(1) }), req.body);
      res.status(201).json(body);
    });
    app.use('/api/v1', routes);
    server = await listen(finishHttpApp(app));
  });

  after(() => server.close());

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { headers });
  const postJson = (path: string, body: string) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const errorOf = async (res: Response) => ((await res.json()) as ErrorBody).error;

  describe('request id', () => {
    it('echoes a sane incoming x-request-id and uses it in the error body', async () => {
      const res = await get('/nowhere', { 'x-request-id': 'ingress-7f3a.1' });
      expect(res.headers.get('x-request-id')).to.equal('ingress-7f3a.1');
      expect((await errorOf(res)).requestId).to.equal('ingress-7f3a.1');
    });

    it('generates one when the incoming id is missing or not sane', async () => {
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
      const missing = await get('/health/liveness');
      const insane = await get('/health/liveness', { 'x-request-id': 'a b"<script>' });
      const tooLong = await get('/health/liveness', { 'x-request-id': 'x'.repeat(200) });
      for (const res of [missing, insane, tooLong]) expect(res.headers.get('x-request-id')).to.match(uuid);
      expect(missing.headers.get('x-request-id')).not.to.equal(insane.headers.get('x-request-id'));
    });
  });

  describe('errors', () => {
    it('answers unknown routes with 404 ROUTE_NOT_FOUND', async () => {
      const res = await get('/api/v1/nope');
      expect(res.status).to.equal(404);
      expect(await errorOf(res)).to.include({
        code: 'ROUTE_NOT_FOUND',
        message: 'no route for GET /api/v1/nope',
      });
    });

    it('renders an AppError thrown by an async handler with its status', async () => {
      const res = await get('/api/v1/gone');
      expect(res.status).to.equal(410);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      expect(await errorOf(res)).to.include({ code: 'TEST_CHANNEL_GONE', message: 'channel was deleted' });
    });

    it('hides unknown errors behind a generic 500 and logs them with the request id', async () => {
      const res = await get('/api/v1/crash', { 'x-request-id': 'crash-1' });
      expect(res.status).to.equal(500);
      const text = await res.text();
      expect(JSON.parse(text)).to.deep.equal({
        error: { code: 'INTERNAL', message: 'internal error', requestId: 'crash-1' },
      });
      expect(text).not.to.include('hunter2');
      const logged = lines.find((l) => l.requestId === 'crash-1' && l.msg === 'request failed');
      expect(logged?.level).to.equal('error');
    });

    it('sets Retry-After on 429 and 503', async () => {
      const busy = await get('/api/v1/busy');
      expect(busy.status).to.equal(429);
      expect(busy.headers.get('retry-after')).to.equal('7');
      expect((await errorOf(busy)).retryAfterSeconds).to.equal(7);
      const down = await get('/api/v1/down');
      expect(down.status).to.equal(503);
      expect(down.headers.get('retry-after')).to.equal('1');
    });

    it('answers 400 VALIDATION_FAILED with the issues as details', async () => {
      const res = await postJson('/api/v1/channels', JSON.stringify({ name: '' }));
      expect(res.status).to.equal(400);
      const error = await errorOf(res);
      expect(error.code).to.equal('VALIDATION_FAILED');
      expect((error.details as { path: string }[])[0]?.path).to.equal('name');
      const ok = await postJson('/api/v1/channels', JSON.stringify({ name: 'general' }));
      expect(ok.status).to.equal(201);
    });

    it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
      const res = await postJson('/api/v1/channels', '{"name": ');
      expect(res.status).to.equal(400);
      expect((await errorOf(res)).code).to.equal('MALFORMED_JSON');
    });

    it('answers bodies over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await postJson('/api/v1/channels', JSON.stringify({ name: 'x'.repeat(100) }));
      expect(res.status).to.equal(413);
      expect(await errorOf(res)).to.include({
        code: 'PAYLOAD_TOO_LARGE',
        message: 'request body exceeds 64 bytes',
      });
    });
  });

  describe('probes', () => {
    it('answers liveness with 200', async () => {
      const res = await get('/health/liveness');
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ status: 'ok', service: 'auth' });
    });

    it('answers readiness 503 until first ready, then 200 ok, and 200 degraded naming a check failing after', async () => {
      type Report = { status: string; checks: Record<string, { ok: boolean; error?: string }> };
      postgresUp = false;
      const starting = await get('/health/readiness');
      expect(starting.status).to.equal(503);
      const startingReport = (await starting.json()) as Report;
      expect(startingReport.status).to.equal('unavailable');
      expect(startingReport.checks.postgres).to.include({ ok: false, error: 'connection refused' });

      postgresUp = true;
      const ok = await get('/health/readiness');
      expect(ok.status).to.equal(200);
      expect(((await ok.json()) as Report).status).to.equal('ok');

      postgresUp = false;
      const failing = await get('/health/readiness');
      expect(failing.status).to.equal(200);
      const report = (await failing.json()) as Report;
      expect(report.status).to.equal('degraded');
      expect(report.checks.postgres).to.include({ ok: false, error: 'connection refused' });
      expect(report.checks.redis?.ok).to.equal(true);
      postgresUp = true;
    });

    it('logs probe requests at debug only', async () => {
      await get('/health/liveness', { 'x-request-id': 'probe-1' });
      const line = lines.find((l) => l.requestId === 'probe-1' && l.msg === 'request completed');
      expect(line?.level).to.equal('debug');
    });
  });
});
