// Every request gets an id: the caller's `x-request-id` when it looks like one (so a chain of
// services shares it), a fresh UUID otherwise. It is echoed back and starts the request's log context.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { requestContext, type Logger } from '../logger.js';

export const requestIdHeader = 'x-request-id';

/** Accepted incoming ids: short, and safe to put in headers and log lines. */
const saneRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdMiddleware(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get(requestIdHeader);
    const requestId = incoming !== undefined && saneRequestId.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader(requestIdHeader, requestId);
    requestContext.run({ requestId, logger: logger.child({ requestId }) }, next);
  };
}

export function requestIdOf(res: { locals: Record<string, unknown> }): string {
  const { requestId } = res.locals;
  return typeof requestId === 'string' ? requestId : 'unknown';
}
