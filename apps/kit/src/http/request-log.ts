// One line per request when it completes: method, route pattern, status and duration, on the
// request's own logger (so it carries requestId and traceId).
import type { RequestHandler } from 'express';
import { currentLogger, requestContext } from '../logger.js';
import { onResponseDone } from './response-done.js';
import { routePattern } from './route-pattern.js';

export interface RequestLogOptions {
  /** Route patterns logged at debug only, e.g. probes, which would otherwise flood the logs. */
  quietRoutes?: ReadonlySet<string>;
}

export function requestLogMiddleware(options: RequestLogOptions = {}): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    // Taken now: the response's close event runs outside the request's async context. The store's
    // logger is read at the end so fields added during the request (addRequestLogFields) appear.
    const context = requestContext.getStore();
    onResponseDone(res, (status) => {
      const logger = context?.logger ?? currentLogger();
      const route = routePattern(req);
      const level = options.quietRoutes?.has(route) ? 'debug' : status >= 500 ? 'error' : 'info';
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      logger[level]({ method: req.method, route, status, durationMs }, 'request completed');
    });
    next();
  };
}
