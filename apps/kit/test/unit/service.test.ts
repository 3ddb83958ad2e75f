import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  ConfigError,
  createService,
  currentTracing,
  env,
  InMemorySpanExporter,
  kitConfigSchema,
  SimpleSpanProcessor,
} from '../../src/index.js';
import { memoryDestination } from '../support/memory-log.js';

const configSchema = kitConfigSchema.extend({
  PORT: env.port(8099),
  GREETING: env.string('hello'),
});

describe('createService', function () {
  this.timeout(10_000);

  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kit-service-'));
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('wires config, logs, tracing, metrics, flags, routes, readiness and shutdown hooks', async () => {
    const flagsFile = join(dir, 'flags.json');
    await writeFile(flagsFile, JSON.stringify({ loudGreeting: true }));
    const { destination, lines } = memoryDestination();
    const exporter = new InMemorySpanExporter();
    const closed: string[] = [];

    const service = await createService({
      name: 'greeter',
      metricsPrefix: 'chat_greeter',
      configSchema,
      env: { PORT: '0', LOG_LEVEL: 'debug', FEATURE_FLAGS_FILE: flagsFile, SHUTDOWN_TIMEOUT_MS: '5s' },
      handleSignals: false,
      logDestination: destination,
      spanProcessors: [new SimpleSpanProcessor(exporter)],
      routes(app, { config, flags, health, onShutdown }) {
        app.get('/api/v1/greeting/:name', (req, res) => {
          const greeting = `${config.GREETING} ${req.params.name}`;
          res.json({ greeting: flags.isEnabled('loudGreeting') ? greeting.toUpperCase() : greeting });
        });
        health.addCheck('dictionary', () => Promise.resolve(), 100);
        onShutdown('dictionary', () => void closed.push('dictionary'));
      },
    });

    expect(service.name).to.equal('greeter');
    expect(service.config.SHUTDOWN_TIMEOUT_MS).to.equal(5000);
    expect(service.port).to.be.above(0);

    const res = await fetch(`${service.url}/api/v1/greeting/ada`, { headers: { 'x-request-id': 'svc-1' } });
    expect(await res.json()).to.deep.equal({ greeting: 'HELLO ADA' });

    const readiness = (await (await fetch(`${service.url}/health/readiness`)).json()) as { checks: object };
    expect(readiness.checks).to.have.property('dictionary');
    const exposition = await (await fetch(`${service.url}/metrics`)).text();
    expect(exposition).to.include(
      'chat_greeter_http_requests_total{route="/api/v1/greeting/:name",method="GET",code="200"} 1',
    );
    expect(exposition).to.include('chat_greeter_readiness_check_ok{check="dictionary"} 1');
    expect(exposition).to.include('chat_greeter_feature_flag{flag="loudGreeting"} 1');
    expect((await fetch(`${service.url}/api/v1/nope`)).status).to.equal(404);

    expect(exporter.getFinishedSpans().map((s) => s.name)).to.include('GET /api/v1/greeting/:name');
    const completed = lines.find((l) => l.requestId === 'svc-1' && l.msg === 'request completed');
    expect(completed).to.include({ service: 'greeter', route: '/api/v1/greeting/:name', status: 200 });
    expect(lines.find((l) => l.msg === 'listening')).to.include({ url: service.url });

    await service.shutdown('test');
    expect(closed).to.deep.equal(['dictionary']);
    expect(currentTracing(), 'tracing shut down with the service').to.equal(undefined);
  });

  it('uses SERVICE_NAME over the given name', async () => {
    const { destination, lines } = memoryDestination();
    const service = await createService({
      name: 'greeter',
      metricsPrefix: 'chat_greeter',
      configSchema,
      env: { PORT: '0', SERVICE_NAME: 'greeter-canary' },
      handleSignals: false,
      logDestination: destination,
      routes: () => undefined,
    });
    await service.shutdown('test');
    expect(service.name).to.equal('greeter-canary');
    expect(lines[0]).to.include({ service: 'greeter-canary' });
  });

  it('throws ConfigError on bad configuration, leaving nothing running', async () => {
    const error = await createService({
      name: 'greeter',
      metricsPrefix: 'chat_greeter',
      configSchema,
      env: { PORT: 'eighty' },
      handleSignals: false,
      routes: () => undefined,
    }).catch((err: unknown) => err);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.equal('config: PORT: expected an integer 0-65535, got "eighty"');
    expect(currentTracing()).to.equal(undefined);
  });

  it('undoes its setup when the routes callback fails', async () => {
    const closed: string[] = [];
    const error = await createService({
      name: 'greeter',
      metricsPrefix: 'chat_greeter',
      configSchema,
      env: { PORT: '0' },
      handleSignals: false,
      logDestination: memoryDestination().destination,
      routes(_app, { onShutdown }) {
        onShutdown('pool', () => void closed.push('pool'));
        throw new Error('cannot reach postgres');
      },
    }).catch((err: unknown) => err);
    expect((error as Error).message).to.equal('cannot reach postgres');
    expect(closed).to.deep.equal(['pool']);
    expect(currentTracing()).to.equal(undefined);
  });

  it('shuts down gracefully on SIGTERM and exits 0', async () => {
    const kit = new URL('../../src/index.js', import.meta.url).href;
    const main = `
      import { createService, kitConfigSchema, env } from ${JSON.stringify(kit)};
      const service = await createService({
        name: 'sig', metricsPrefix: 'chat_sig',
        configSchema: kitConfigSchema.extend({ PORT: env.port(0) }),
        routes(_app, { onShutdown }) { onShutdown('pool', () => console.error('pool closed')); },
      });
      console.error('ready ' + service.url);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', main], {
      env: { PATH: process.env.PATH ?? '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const ready = new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('ready ')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await ready;
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(stderr).to.include('pool closed');
    const messages = stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).to.include.members(['listening', 'shutting down', 'shut down']);
  });
});
