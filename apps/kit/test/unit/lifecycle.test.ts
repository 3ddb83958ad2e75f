import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import {
  createHttpApp,
  createMetrics,
  finishHttpApp,
  Health,
  startService,
  type Lifecycle,
  type StartServiceOptions,
} from '../../src/index.js';
import { memoryLog, type LogLine } from '../support/memory-log.js';
import { gate, waitFor } from '../support/wait.js';

describe('startService (graceful shutdown)', function () {
  this.timeout(10_000);

  let service: Lifecycle;
  let lines: LogLine[];
  let slowStarted: boolean;
  let slowFinished: boolean;
  let releaseSlow: () => void;

  async function start(options: Partial<StartServiceOptions> = {}): Promise<Lifecycle> {
    const memory = memoryLog('lifecycle');
    lines = memory.lines;
    slowStarted = false;
    slowFinished = false;
    const slow = gate();
    releaseSlow = slow.open;
    const health = new Health();
    const app = createHttpApp({
      service: 'lifecycle',
      logger: memory.logger,
      metrics: createMetrics('chat_lc'),
      health,
    });
    app.get('/slow', async (_req, res) => {
      slowStarted = true;
      await slow.promise;
      res.json({ done: true });
      slowFinished = true;
    });
    service = await startService({
      app: finishHttpApp(app),
      port: 0,
      host: '127.0.0.1',
      health,
      logger: memory.logger,
      shutdownTimeoutMs: 5000,
      handleSignals: false,
      ...options,
    });
    return service;
  }

  afterEach(async () => {
    releaseSlow();
    await service.shutdown('test cleanup');
  });

  /** Resolves with the error code of a fresh TCP connection attempt, or 'connected'. */
  const tryConnect = (port: number) =>
    new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });

  it('listens and reports its URL', async () => {
    await start();
    expect(service.url).to.equal(`http://127.0.0.1:${service.port}`);
    expect((await fetch(`${service.url}/health/liveness`)).status).to.equal(200);
  });

  it('fails readiness while still listening, before it closes the listener', async () => {
    await start({ preStopDelayMs: 1000 });
    expect((await fetch(`${service.url}/health/readiness`)).status).to.equal(200);
    const done = service.shutdown('SIGTERM');
    const res = await fetch(`${service.url}/health/readiness`);
    expect(service.server.listening, 'still listening during the pre-stop delay').to.be.true;
    expect(res.status).to.equal(503);
    expect(await res.json()).to.include({ status: 'unavailable', reason: 'shutting down' });
    await done;
    expect(service.server.listening).to.be.false;
  });

  it('lets an in-flight request finish, refuses new connections, then runs the hooks', async () => {
    await start();
    const hookSawSlowFinished: boolean[] = [];
    service.register('database', () => void hookSawSlowFinished.push(slowFinished));

    const slowResponse = fetch(`${service.url}/slow`);
    await waitFor(() => slowStarted, 5000, 'the slow request to start');
    const done = service.shutdown('SIGTERM');

    expect(await tryConnect(service.port)).to.equal('ECONNREFUSED');
    expect(hookSawSlowFinished, 'hooks wait for in-flight requests').to.be.empty;

    releaseSlow();
    const res = await slowResponse;
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ done: true });
    expect(res.headers.get('connection')).to.equal('close');
    await done;
    expect(hookSawSlowFinished).to.deep.equal([true]);
  });

  it('closes idle keep-alive connections at once, while requests are still in flight', async () => {
    await start();
    const idle = await openIdleKeepAliveConnection(service.port);
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    const slowResponse = fetch(`${service.url}/slow`);
    await waitFor(() => slowStarted, 5000, 'the slow request to start');

    const done = service.shutdown('SIGTERM');
    await idleClosed;
    expect(slowFinished, 'the idle connection closed before the in-flight request ended').to.be.false;
    releaseSlow();
    expect((await slowResponse).status).to.equal(200);
    await done;
  });

  it('runs shutdown hooks newest first, past a failing one', async () => {
    const order: string[] = [];
    await start({ onShutdown: [{ name: 'postgres', fn: () => void order.push('postgres') }] });
    service.register('redis', () => {
      order.push('redis');
      throw new Error('already closed');
    });
    service.register('websockets', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push('websockets');
    });
    await service.shutdown('SIGTERM');
    expect(order).to.deep.equal(['websockets', 'redis', 'postgres']);
    expect(lines.find((l) => l.msg === 'shutdown hook failed')).to.include({ hook: 'redis', level: 'error' });
  });

  it('cuts a request that outlives the deadline', async () => {
    await start({ shutdownTimeoutMs: 200 });
    const slowResponse = fetch(`${service.url}/slow`).then(
      (res) => `answered ${res.status}`,
      () => 'cut',
    );
    await waitFor(() => slowStarted, 5000, 'the slow request to start');
    const started = Date.now();
    await service.shutdown('SIGTERM');
    const elapsed = Date.now() - started;
    expect(elapsed).to.be.at.least(150).and.below(3000);
    expect(await slowResponse).to.equal('cut');
    expect(lines.find((l) => l.msg?.startsWith('shutdown deadline reached'))).to.include({ inFlight: 1 });
  });

  it('is idempotent', async () => {
    await start();
    const first = service.shutdown('SIGTERM');
    expect(service.shutdown('SIGINT')).to.equal(first);
    await first;
    expect(lines.filter((l) => l.msg === 'shutting down')).to.have.length(1);
  });
});

/** A raw HTTP/1.1 connection that made one request and now sits idle, kept alive. */
async function openIdleKeepAliveConnection(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (received.includes('"status":"ok"')) resolve();
    });
    socket.write('GET /health/liveness HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n');
  });
  return socket;
}
