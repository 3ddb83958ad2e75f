// The express app every service starts from: request ids, tracing, request logs, RED metrics, JSON
// bodies, probes and /metrics first; the service's routes next; finishHttpApp() closes the chain.
import express, { type Express } from 'express';
import { readinessHttpStatus, type Health } from '../health.js';
import type { Logger } from '../logger.js';
import { httpMetricsMiddleware, type Metrics } from '../metrics.js';
import { tracingMiddleware, type Tracing } from '../tracing.js';
import { errorHandler, routeNotFound } from './error-handler.js';
import { requestIdMiddleware } from './request-id.js';
import { requestLogMiddleware } from './request-log.js';
import { trackRoutePattern } from './route-pattern.js';

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  metrics: Metrics;
  health: Health;
  /** Largest accepted JSON body: bytes or a string like '100kb' (default 100kb). */
  bodyLimit?: number | string;
  /** Pass the initialised tracing to get a server span per request. */
  tracing?: Tracing;
}

export const livenessPath = '/health/liveness';
export const readinessPath = '/health/readiness';
export const metricsPath = '/metrics';

/** Probes and scrapes: kept out of RED metrics and logged at debug only. */
const infrastructureRoutes: ReadonlySet<string> = new Set([livenessPath, readinessPath, metricsPath]);

export function createHttpApp(options: HttpAppOptions): Express {
  const { health, metrics } = options;
  const app = express();
  app.disable('x-powered-by');

  app.use(trackRoutePattern);
  app.use(requestIdMiddleware(options.logger));
  if (options.tracing) app.use(tracingMiddleware);
  app.use(requestLogMiddleware({ quietRoutes: infrastructureRoutes }));
  app.use(httpMetricsMiddleware(metrics, { ignoreRoutes: infrastructureRoutes }));
  app.use(express.json({ limit: options.bodyLimit ?? '100kb' }));

  app.get(livenessPath, (_req, res) => {
    res.json({ status: 'ok', service: options.service });
  });
  app.get(readinessPath, async (_req, res) => {
    const report = await health.readiness();
    res.status(readinessHttpStatus(report)).json(report);
  });
  app.get(metricsPath, async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return app;
}

/** Call after adding the service's routes: 404 for anything unmatched, then the error renderer. */
export function finishHttpApp(app: Express): Express {
  app.use(routeNotFound);
  app.use(errorHandler);
  return app;
}
