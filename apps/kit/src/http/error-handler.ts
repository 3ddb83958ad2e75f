// The end of every app's middleware chain: unknown routes become ROUTE_NOT_FOUND, and every error
// is rendered as the contract's JSON body with its status (and Retry-After on 429/503).
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { errorBody, kitErrors, retryAfterSecondsOf, toAppError, type AppError } from '../errors.js';
import { currentLogger } from '../logger.js';
import { requestIdOf } from './request-id.js';

export const routeNotFound: RequestHandler = (req) => {
  throw kitErrors.ROUTE_NOT_FOUND(`no route for ${req.method} ${req.path}`);
};

/** body-parser's error types, which carry no kit code of their own. */
const bodyParserErrors: Record<string, (err: Error) => AppError> = {
  'entity.parse.failed': () => kitErrors.MALFORMED_JSON('request body is not valid JSON'),
  'entity.too.large': (err) =>
    kitErrors.PAYLOAD_TOO_LARGE(`request body exceeds ${String((err as { limit?: unknown }).limit)} bytes`),
  'encoding.unsupported': (err) => kitErrors.UNSUPPORTED_MEDIA_TYPE(err.message),
  'charset.unsupported': (err) => kitErrors.UNSUPPORTED_MEDIA_TYPE(err.message),
};

function fromExpressError(err: unknown): AppError {
  if (err instanceof Error && 'type' in err && typeof err.type === 'string') {
    const translate = bodyParserErrors[err.type];
    if (translate) return translate(err);
  }
  return toAppError(err);
}

export const errorHandler: ErrorRequestHandler = (err, _req, res, next) => {
  if (res.headersSent) {
    // Too late for an error body; let express abort the connection.
    next(err);
    return;
  }
  const appError = fromExpressError(err);
  if (appError.status >= 500) currentLogger().error({ err }, 'request failed');
  const retryAfterSeconds = retryAfterSecondsOf(appError);
  if (retryAfterSeconds !== undefined) res.setHeader('retry-after', String(retryAfterSeconds));
  res.status(appError.status).json(errorBody(appError, requestIdOf(res)));
};
