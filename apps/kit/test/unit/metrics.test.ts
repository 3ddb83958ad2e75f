import { expect } from 'chai';
import { Router } from 'express';
import { register as globalRegistry } from 'prom-client';
import { createHttpApp, createMetrics, finishHttpApp, Health, httpDurationBuckets } from '../../src/index.js';
import { listen, type TestServer } from '../support/http.js';
import { memoryLog } from '../support/memory-log.js';

describe('metrics', () => {
  it('gives each createMetrics its own registry with the default process metrics', async () => {
    const a = createMetrics('chat_a');
    const b = createMetrics('chat_b');
    a.counter('things_total', 'Things.', []).inc();
    expect(a.registry).not.to.equal(b.registry);
    expect(a.registry).not.to.equal(globalRegistry);
    expect(await a.registry.metrics()).to.include('chat_a_things_total 1');
    expect(await b.registry.metrics()).not.to.include('chat_a_things_total');
    expect(await globalRegistry.metrics()).not.to.include('chat_a_things_total');
    expect(await b.registry.metrics()).to.include('process_cpu_user_seconds_total');
  });

  it('returns the existing metric for a repeated name and refuses a different type', () => {
    const metrics = createMetrics('chat_c');
    const first = metrics.gauge('queue_depth', 'Depth.', ['queue']);
    expect(metrics.gauge('queue_depth', 'Depth.', ['queue'])).to.equal(first);
    expect(() => metrics.counter('queue_depth', 'Depth.', ['queue'])).to.throw(
      /already registered as another type/,
    );
  });

  it('refuses a prefix that is not a metric name', () => {
    expect(() => createMetrics('chat-auth')).to.throw(/not a metric name/);
  });

  describe('RED middleware', () => {
    let server: TestServer;
    const metrics = createMetrics('chat_red');

    before(async () => {
      const app = createHttpApp({
        service: 'red',
        logger: memoryLog().logger,
        metrics,
        health: new Health(),
      });
      const channels = Router();
      channels.get('/channels/:id', (req, res) => {
        res.status(req.params.id === 'missing' ? 404 : 200).json({});
      });
      app.use('/api/v1', channels);
      server = await listen(finishHttpApp(app));
    });

    after(() => server.close());

    const exposition = async () => {
      const res = await fetch(`${server.url}/metrics`);
      expect(res.headers.get('content-type')).to.equal(metrics.registry.contentType);
      return res.text();
    };

    it('labels requests with the route pattern, never the raw URL', async () => {
      for (const id of ['1', '2', '3', 'missing']) await fetch(`${server.url}/api/v1/channels/${id}`);
      const text = await exposition();
      expect(text).to.include(
        'chat_red_http_requests_total{route="/api/v1/channels/:id",method="GET",code="200"} 3',
      );
      expect(text).to.include(
        'chat_red_http_requests_total{route="/api/v1/channels/:id",method="GET",code="404"} 1',
      );
      expect(text).not.to.match(/route="\/api\/v1\/channels\/\d/);
      expect(text).to.include(
        'chat_red_http_request_duration_seconds_count{route="/api/v1/channels/:id",method="GET",code="200"} 3',
      );
    });

    it('labels unmatched requests `unmatched`', async () => {
      await fetch(`${server.url}/wp-admin/${Date.now()}`);
      expect(await exposition()).to.include(
        'chat_red_http_requests_total{route="unmatched",method="GET",code="404"} 1',
      );
    });

    it('uses the SLO buckets', async () => {
      const text = await exposition();
      for (const le of httpDurationBuckets) {
        expect(text).to.include(
          `chat_red_http_request_duration_seconds_bucket{le="${le}",route="/api/v1/channels/:id"`,
        );
      }
      expect(httpDurationBuckets).to.include.members([0.2, 0.3, 0.5]);
    });

    it('leaves probes and scrapes out of the request metrics', async () => {
      await fetch(`${server.url}/health/liveness`);
      await fetch(`${server.url}/health/readiness`);
      const text = await exposition();
      expect(text).not.to.include('route="/health/');
      expect(text).not.to.include('route="/metrics"');
    });
  });
});
