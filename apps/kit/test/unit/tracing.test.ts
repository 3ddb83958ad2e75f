import { expect } from 'chai';
import { Router } from 'express';
import {
  createHttpApp,
  createMetrics,
  currentTraceId,
  finishHttpApp,
  Health,
  initTracing,
  injectTraceContext,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  withSpan,
  type Tracing,
} from '../../src/index.js';
import { listen, type TestServer } from '../support/http.js';
import { memoryLog, type LogLine } from '../support/memory-log.js';

const incomingTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const incomingSpanId = '00f067aa0ba902b7';

describe('tracing', () => {
  let exporter: InMemorySpanExporter;
  let tracing: Tracing;

  beforeEach(() => {
    exporter = new InMemorySpanExporter();
    tracing = initTracing({ service: 'message', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  });

  afterEach(() => tracing.shutdown());

  describe('through HTTP', () => {
    let server: TestServer;
    let lines: LogLine[];

    beforeEach(async () => {
      const memory = memoryLog('message');
      lines = memory.lines;
      const app = createHttpApp({
        service: 'message',
        logger: memory.logger,
        metrics: createMetrics('chat_tracetest'),
        health: new Health(),
        tracing,
      });
      const routes = Router();
      routes.get('/channels/:id/messages', async (_req, res) => {
        const outgoing = await withSpan('load messages', async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          return injectTraceContext({ accept: 'application/json' });
        });
        res.json({ outgoing, traceId: currentTraceId() });
      });
      app.use('/api/v1', routes);
      server = await listen(finishHttpApp(app));
    });

    afterEach(() => server.close());

    it('continues the incoming trace: server span, child span, outgoing traceparent, log lines', async () => {
      const res = await fetch(`${server.url}/api/v1/channels/c1/messages`, {
        headers: { traceparent: `00-${incomingTraceId}-${incomingSpanId}-01`, 'x-request-id': 'traced-1' },
      });
      const body = (await res.json()) as { outgoing: Record<string, string>; traceId: string };

      const spans = exporter.getFinishedSpans();
      const serverSpan = spans.find((s) => s.name === 'GET /api/v1/channels/:id/messages');
      const child = spans.find((s) => s.name === 'load messages');
      expect(serverSpan, 'server span').to.exist;
      expect(child, 'child span').to.exist;
      expect(serverSpan!.spanContext().traceId).to.equal(incomingTraceId);
      expect(serverSpan!.parentSpanContext?.spanId).to.equal(incomingSpanId);
      expect(serverSpan!.attributes).to.include({
        'http.route': '/api/v1/channels/:id/messages',
        'http.response.status_code': 200,
      });
      expect(child!.spanContext().traceId).to.equal(incomingTraceId);
      expect(child!.parentSpanContext?.spanId).to.equal(serverSpan!.spanContext().spanId);

      // The outgoing header was made inside the child span.
      expect(body.outgoing.traceparent).to.equal(`00-${incomingTraceId}-${child!.spanContext().spanId}-01`);
      expect(body.outgoing.accept).to.equal('application/json');
      expect(body.traceId).to.equal(incomingTraceId);

      const requestLines = lines.filter((l) => l.requestId === 'traced-1');
      expect(requestLines).not.to.be.empty;
      expect(requestLines.every((l) => l.traceId === incomingTraceId)).to.be.true;
    });

    it('starts a new trace when the request carries none', async () => {
      await fetch(`${server.url}/api/v1/channels/c2/messages`);
      const [serverSpan] = exporter.getFinishedSpans().filter((s) => s.name.startsWith('GET '));
      expect(serverSpan!.spanContext().traceId)
        .to.match(/^[0-9a-f]{32}$/)
        .and.not.equal(incomingTraceId);
      expect(serverSpan!.parentSpanContext).to.equal(undefined);
    });

    it('names unmatched requests `METHOD unmatched`', async () => {
      await fetch(`${server.url}/nowhere/${Date.now()}`);
      expect(exporter.getFinishedSpans().map((s) => s.name)).to.include('GET unmatched');
    });
  });

  it('withSpan marks the span failed when the work throws, and rethrows', async () => {
    let thrown: unknown;
    await withSpan('doomed', () => Promise.reject(new Error('nope'))).catch((err: unknown) => (thrown = err));
    expect((thrown as Error).message).to.equal('nope');
    const [span] = exporter.getFinishedSpans();
    expect(span!.name).to.equal('doomed');
    expect(span!.status.code).to.equal(2); // SpanStatusCode.ERROR
    expect(span!.events.map((e) => e.name)).to.include('exception');
  });

  it('allows one initialisation per process until it is shut down', async () => {
    expect(() => initTracing({ service: 'other' })).to.throw(/already initialised for message/);
    await tracing.shutdown();
    const again = initTracing({ service: 'other' });
    expect(currentTraceId()).to.equal(undefined);
    await again.shutdown();
  });
});
