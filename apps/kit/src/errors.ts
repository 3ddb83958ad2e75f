// Structured errors: a stable machine-readable `code`, the HTTP status it maps to, and the JSON body
// every service answers with (docs/architecture.md, "Errors").
import type { z } from 'zod';

/** The codes every service shares, with their HTTP status. */
export const kitErrorCodes = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  DEPENDENCY_UNAVAILABLE: 503,
  CIRCUIT_OPEN: 503,
  BULKHEAD_FULL: 503,
  SHUTTING_DOWN: 503,
  TIMEOUT: 504,
} as const;

export type KitErrorCode = keyof typeof kitErrorCodes;

/** Every code known to this process (kit codes plus those registered with defineErrorCodes). */
const statusByCode = new Map<string, number>(Object.entries(kitErrorCodes));

export interface AppErrorOptions {
  /** Overrides the status registered for the code. */
  status?: number;
  retryAfterSeconds?: number;
  /** Safe to show to clients (e.g. validation issues); rendered as `details`. */
  details?: unknown;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryAfterSeconds?: number;
  readonly details?: unknown;

  /** `code` is a kit code or one registered with defineErrorCodes; unknown codes answer 500. */
  constructor(code: KitErrorCode | (string & {}), message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? statusByCode.get(code) ?? 500;
    if (options.retryAfterSeconds !== undefined) {
      // Retry-After carries whole seconds.
      this.retryAfterSeconds = Math.max(0, Math.ceil(options.retryAfterSeconds));
    }
    if (options.details !== undefined) this.details = options.details;
  }
}

export function isAppError(err: unknown, code?: string): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}

export type ErrorFactory = (message: string, options?: Omit<AppErrorOptions, 'status'>) => AppError;
export type ErrorFactories<Codes extends Record<string, number>> = {
  readonly [C in keyof Codes]: ErrorFactory;
};

const codePattern = /^[A-Z][A-Z0-9_]*$/;

/**
 * Registers a service's own codes and returns one factory per code:
 * `const errors = defineErrorCodes({ MSG_CHANNEL_NOT_FOUND: 404 }); throw errors.MSG_CHANNEL_NOT_FOUND('no such channel');`
 * Registering a code again with another status is a programming error and throws.
 */
export function defineErrorCodes<const Codes extends Record<string, number>>(
  codes: Codes,
): ErrorFactories<Codes> {
  const factories: Record<string, ErrorFactory> = {};
  for (const [code, status] of Object.entries(codes)) {
    if (!codePattern.test(code)) throw new TypeError(`error code ${code} must be UPPER_SNAKE_CASE`);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new TypeError(`error code ${code}: status ${status} is not a 4xx or 5xx status`);
    }
    const registered = statusByCode.get(code);
    if (registered !== undefined && registered !== status) {
      throw new TypeError(`error code ${code} is already registered with status ${registered}`);
    }
    statusByCode.set(code, status);
    factories[code] = (message, options) => new AppError(code, message, options);
  }
  return factories as ErrorFactories<Codes>;
}

/** Factories for the kit's own codes: `kitErrors.NOT_FOUND('no such user')`. */
export const kitErrors = defineErrorCodes(kitErrorCodes);

/** Anything thrown becomes an AppError; errors the kit did not make are INTERNAL and keep no message. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('INTERNAL', 'internal error', { cause: err });
}

/**
 * Seconds a client should wait before retrying. 429 and 503 always carry one (1 s unless the
 * error says otherwise), because the contract promises `Retry-After` on them.
 */
export function retryAfterSecondsOf(err: AppError): number | undefined {
  if (err.retryAfterSeconds !== undefined) return err.retryAfterSeconds;
  return err.status === 429 || err.status === 503 ? 1 : undefined;
}

export interface ErrorBody {
  error: {
    code: string;
    message: string;
    retryAfterSeconds?: number;
    requestId: string;
    details?: unknown;
  };
}

export function errorBody(err: unknown, requestId: string): ErrorBody {
  const appError = toAppError(err);
  const retryAfterSeconds = retryAfterSecondsOf(appError);
  return {
    error: {
      code: appError.code,
      message: appError.message,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      requestId,
      ...(appError.details === undefined ? {} : { details: appError.details }),
    },
  };
}

export interface ValidationIssue {
  path: string;
  message: string;
}

/** Parses `value` or throws VALIDATION_FAILED listing each issue (path + message) in `details`. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new AppError('VALIDATION_FAILED', `invalid input: ${summary}`, { details: issues });
}
