import { request } from 'node:http';
import { expect } from 'chai';
import { Router } from 'express';
import {
  addRequestLogFields,
  createHttpApp,
  createMetrics,
  currentLogger,
  currentRequestId,
  finishHttpApp,
  Health,
  log,
} from '../../src/index.js';
import { listen, type TestServer } from '../support/http.js';
import { memoryLog, type LogLine } from '../support/memory-log.js';

describe('logger', () => {
  it('writes JSON lines with the service and a level name', () => {
    const { logger, lines } = memoryLog('auth');
    logger.warn({ channelId: 'c1' }, 'slow query');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ service: 'auth', level: 'warn', channelId: 'c1', msg: 'slow query' });
    expect(Date.parse(String(lines[0]!.time))).to.be.a('number').and.not.NaN;
  });

  it('outside a request, currentLogger() is the process logger and has no requestId', () => {
    const { lines } = memoryLog('auth');
    currentLogger().info('starting');
    expect(currentRequestId()).to.equal(undefined);
    expect(lines).to.have.length(1);
    expect(lines[0]).not.to.have.property('requestId');
  });

  describe('inside requests', () => {
    let server: TestServer;
    let lines: LogLine[];

    before(async () => {
      const memory = memoryLog('message');
      lines = memory.lines;
      const app = createHttpApp({
        service: 'message',
        logger: memory.logger,
        metrics: createMetrics('chat_logtest'),
        health: new Health(),
      });
      const routes = Router();
      // Logs before and after awaits and after the JSON body was parsed, where async context is easily lost.
      routes.post('/work/:n', async (req, res) => {
        log().info({ step: 'start' }, 'working');
        await new Promise((resolve) => setTimeout(resolve, Number(req.params.n)));
        addRequestLogFields({ userId: (req.body as { userId: string }).userId });
        currentLogger().info({ step: 'after wait' }, 'working');
        await Promise.resolve();
        log().info({ step: 'end' }, 'working');
        res.json({ requestId: currentRequestId() });
      });
      app.use('/api', routes);
      server = await listen(finishHttpApp(app));
    });

    after(() => server.close());

    const post = (path: string, userId: string, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ userId }),
      });

    it('puts the same requestId on every line of a request, even with requests interleaved', async () => {
      // The slower request starts first, so the two requests' lines interleave.
      const [slow, fast] = await Promise.all([post('/api/work/60', 'u-slow'), post('/api/work/1', 'u-fast')]);
      const ids = [slow.headers.get('x-request-id'), fast.headers.get('x-request-id')];
      expect(ids[0]).to.be.a('string').and.not.equal(ids[1]);

      for (const [id, userId] of [
        [ids[0], 'u-slow'],
        [ids[1], 'u-fast'],
      ] as const) {
        const own = lines.filter((line) => line.requestId === id);
        expect(own.map((l) => l.step ?? l.msg)).to.deep.equal([
          'start',
          'after wait',
          'end',
          'request completed',
        ]);
        // Fields added mid-request appear on the later lines, the completion line included.
        expect(own.slice(1).every((l) => l.userId === userId)).to.be.true;
      }
      expect(((await slow.json()) as { requestId: string }).requestId).to.equal(ids[0]);
      expect(lines.filter((l) => l.msg === 'working').every((l) => typeof l.requestId === 'string')).to.be
        .true;
    });

    it('keeps the request context when the body arrives in pieces after the request started', async () => {
      // Body chunks that arrive later are delivered from the socket, outside the request's async context.
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${server.url}/api/work/1`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': 'chunked-1' },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write('{"userId":');
        setTimeout(() => req.end('"u-chunked"}'), 30);
      });
      expect(status).to.equal(200);
      const own = lines.filter((line) => line.requestId === 'chunked-1');
      expect(own.map((l) => l.step ?? l.msg)).to.deep.equal([
        'start',
        'after wait',
        'end',
        'request completed',
      ]);
    });

    it('logs one completion line with method, route pattern, status and duration', async () => {
      const res = await post('/api/work/1', 'u1', { 'x-request-id': 'edge-42' });
      expect(res.status).to.equal(200);
      const done = lines.filter((l) => l.requestId === 'edge-42' && l.msg === 'request completed');
      expect(done).to.have.length(1);
      expect(done[0]).to.include({ method: 'POST', route: '/api/work/:n', status: 200, level: 'info' });
      expect(done[0]!.durationMs).to.be.a('number').and.at.least(0);
    });
  });
});
