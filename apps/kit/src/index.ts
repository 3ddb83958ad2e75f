// @chatcluster/kit: the service skeleton every ChatCluster app shares (see README.md).
export * from './errors.js';
export * from './config.js';
export * from './logger.js';
export * from './tracing.js';
export * from './metrics.js';
export * from './store-calls.js';
export * from './health.js';
export * from './lifecycle.js';
export * from './flags.js';
export * from './service.js';
export {
  createHttpApp,
  finishHttpApp,
  livenessPath,
  readinessPath,
  metricsPath,
  type HttpAppOptions,
} from './http/app.js';
export { requestIdHeader } from './http/request-id.js';
export { routePattern, unmatchedRoute } from './http/route-pattern.js';
export * from './resilience/breaker.js';
export * from './resilience/retry.js';
export * from './resilience/timeout.js';
export * from './resilience/bulkhead.js';
export * from './rate-limit/gcra.js';
export * from './rate-limit/redis-limiter.js';
