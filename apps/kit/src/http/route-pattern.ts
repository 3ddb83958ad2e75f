// The express route pattern a request matched (`/api/v1/channels/:id`), for metric labels, span
// names and logs: raw URLs would give one time series per channel id.
import type { Request, RequestHandler } from 'express';

const matched = Symbol('matchedRoutePattern');
type Tracked = Request & { [matched]?: string };

export const unmatchedRoute = 'unmatched';

/**
 * Records the pattern at the moment express matches a route. Reading `req.route` later is not
 * enough: routers restore `req.baseUrl` on the way out, losing the mount path of nested routers.
 */
export const trackRoutePattern: RequestHandler = (req, _res, next) => {
  let route: unknown;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: { path?: string | string[] } | undefined) {
      route = value;
      if (value?.path === undefined) return;
      const path = Array.isArray(value.path) ? value.path.join('|') : value.path;
      // A router's own root ('/' under '/api/v1') reads better as the mount path alone.
      (req as Tracked)[matched] = req.baseUrl && path === '/' ? req.baseUrl : `${req.baseUrl}${path}`;
    },
  });
  next();
};

/** The matched pattern, or `unmatched` (404s, requests answered by plain middleware). */
export function routePattern(req: Request): string {
  return (req as Tracked)[matched] ?? unmatchedRoute;
}
