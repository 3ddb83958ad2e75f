// Prometheus metrics: one registry per createMetrics() call (never prom-client's global one, so
// tests and several services in one process stay apart), and the RED middleware.
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { onResponseDone } from './http/response-done.js';
import { routePattern } from './http/route-pattern.js';

/** Include 0.2, 0.3 and 0.5: the latency SLO thresholds (docs/architecture.md). */
export const httpDurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10];

export interface Metrics {
  readonly prefix: string;
  readonly registry: Registry;
  /** `<prefix>_<name>`; returns the existing counter when one by that name was made before. */
  counter: <L extends string>(name: string, help: string, labelNames: readonly L[]) => Counter<L>;
  gauge: <L extends string>(name: string, help: string, labelNames: readonly L[]) => Gauge<L>;
  histogram: <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ) => Histogram<L>;
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export function createMetrics(prefix: string): Metrics {
  if (!metricName.test(prefix))
    throw new TypeError(`metrics prefix ${JSON.stringify(prefix)} is not a metric name`);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // Several breakers (bulkheads, …) share one metric with different labels, so creation is get-or-create.
  function getOrCreate<M>(
    name: string,
    kind: abstract new (...args: never[]) => M,
    create: (full: string) => M,
  ): M {
    const full = `${prefix}_${name}`;
    const existing = registry.getSingleMetric(full);
    if (existing === undefined) return create(full);
    if (existing instanceof kind) return existing;
    throw new TypeError(`metric ${full} is already registered as another type`);
  }

  return {
    prefix,
    registry,
    counter: (name, help, labelNames) =>
      getOrCreate(
        name,
        Counter,
        (full) => new Counter({ name: full, help, labelNames, registers: [registry] }),
      ),
    gauge: (name, help, labelNames) =>
      getOrCreate(name, Gauge, (full) => new Gauge({ name: full, help, labelNames, registers: [registry] })),
    histogram: (name, help, labelNames, buckets) =>
      getOrCreate(
        name,
        Histogram,
        (full) => new Histogram({ name: full, help, labelNames, buckets, registers: [registry] }),
      ),
  };
}

export interface HttpMetricsOptions {
  /** Route patterns not counted, e.g. probes and scrapes, which would dilute the request SLOs. */
  ignoreRoutes?: ReadonlySet<string>;
}

/** Rate, errors, duration per route pattern (never the raw URL), method and status code. */
export function httpMetricsMiddleware(metrics: Metrics, options: HttpMetricsOptions = {}): RequestHandler {
  const labels = ['route', 'method', 'code'] as const;
  const requests = metrics.counter('http_requests_total', 'HTTP requests answered.', labels);
  const duration = metrics.histogram(
    'http_request_duration_seconds',
    'Time from receiving an HTTP request to finishing its response.',
    labels,
    httpDurationBuckets,
  );
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    onResponseDone(res, (status) => {
      const route = routePattern(req);
      if (options.ignoreRoutes?.has(route)) return;
      const labelValues = { route, method: req.method, code: String(status) };
      requests.inc(labelValues);
      duration.observe(labelValues, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
