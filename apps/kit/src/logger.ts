// JSON logs with pino. Inside a request, currentLogger() returns a child carrying that request's
// requestId and traceId, so every line of a request can be found together without passing loggers around.
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Bindings, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  level?: LogLevel;
  /** Where lines go; stdout by default. Tests pass an in-memory stream. */
  destination?: DestinationStream;
}

/** The logger used outside any request: the one createLogger made last. */
let processLogger: Logger = pino();

export function createLogger(options: LoggerOptions): Logger {
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Log pipelines match on "level":"error" more readily than on pino's numbers.
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
  processLogger = logger;
  return logger;
}

export interface RequestContext {
  readonly requestId: string;
  logger: Logger;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** The current request's logger, or the process logger outside a request. */
export function currentLogger(): Logger {
  return requestContext.getStore()?.logger ?? processLogger;
}

/** Short alias for currentLogger(): `log().info({ channelId }, 'channel created')`. */
export const log = currentLogger;

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

/** Adds fields to every later line of the current request (e.g. the trace id once tracing knows it). */
export function addRequestLogFields(fields: Bindings): void {
  const store = requestContext.getStore();
  if (store) store.logger = store.logger.child(fields);
}
