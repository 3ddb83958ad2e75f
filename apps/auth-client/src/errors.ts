// The client's errors are the kit's AppErrors, so a service that lets them reach its error handler
// answers the contract's body by itself: 401 UNAUTHENTICATED, or 503 DEPENDENCY_UNAVAILABLE with Retry-After.
import { AppError } from '@chatcluster/kit';

/** Why a token was refused; every reason is a 401. */
export type TokenRejection =
  | 'missing'
  | 'malformed'
  | 'algorithm'
  | 'signature'
  | 'unknown_key'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'claims';

/** The token is not acceptable: 401 UNAUTHENTICATED; `reason` is for logs and metrics, not clients. */
export class TokenRejectedError extends AppError {
  constructor(
    readonly reason: TokenRejection,
    message: string,
  ) {
    super('UNAUTHENTICATED', message);
    this.name = 'TokenRejectedError';
  }
}

/** Retry-After of an error caused by an open breaker (its remaining open time), else 1 s. */
function retryAfterOf(cause: unknown): number {
  return cause instanceof AppError && cause.retryAfterSeconds !== undefined ? cause.retryAfterSeconds : 1;
}

/** No key material could be had (auth unreachable and nothing usable cached): 503, not 401. */
export class KeysUnavailableError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('DEPENDENCY_UNAVAILABLE', message, {
      cause: options.cause,
      retryAfterSeconds: retryAfterOf(options.cause),
    });
    this.name = 'KeysUnavailableError';
  }
}

/** The auth service could not answer a lookup (timeout, error, open breaker) and the cache had nothing: 503. */
export class AuthUnavailableError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('DEPENDENCY_UNAVAILABLE', message, {
      cause: options.cause,
      retryAfterSeconds: retryAfterOf(options.cause),
    });
    this.name = 'AuthUnavailableError';
  }
}
