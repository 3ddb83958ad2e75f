// Signature, algorithm and claim checks of one access token, against whatever key source the caller has.
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { TokenRejectedError } from './errors.js';

/** The claims of a ChatCluster access token. */
export interface AccessTokenClaims {
  /** User id. */
  readonly sub: string;
  /** Username at issue time. */
  readonly name: string;
  readonly iss: string;
  readonly aud: string | string[];
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

export interface VerifyOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Accepted `alg` values; anything else (including `none` and HS*) is refused. */
  readonly algorithms?: readonly string[];
  /** Allowed clock difference for exp/nbf/iat, in seconds (default 5). */
  readonly clockToleranceSeconds?: number;
}

export const DEFAULT_ALGORITHMS: readonly string[] = ['EdDSA', 'ES256'];

/** The `Authorization: Bearer <token>` value, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer[ \t]+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/**
 * Verifies signature, algorithm, issuer, audience, expiry and the required claims of an access
 * token against keys from `getKey` (a local or cached JWKS). Rejections throw TokenRejectedError;
 * a key source that cannot produce keys rethrows its own error (e.g. KeysUnavailableError).
 */
export async function verifyAccessToken(
  token: string,
  getKey: JWTVerifyGetKey,
  options: VerifyOptions,
): Promise<AccessTokenClaims> {
  if (token.length > 8192) throw new TokenRejectedError('malformed', 'token too long');
  try {
    const { payload } = await jwtVerify(token, getKey, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: [...(options.algorithms ?? DEFAULT_ALGORITHMS)],
      clockTolerance: options.clockToleranceSeconds ?? 5,
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
    });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
      throw new TokenRejectedError('claims', 'token has no subject');
    }
    return {
      sub: payload.sub,
      name: typeof payload['name'] === 'string' ? payload['name'] : '',
      iss: payload.iss!,
      aud: payload.aud!,
      iat: payload.iat!,
      exp: payload.exp!,
      jti: payload.jti!,
    };
  } catch (err) {
    throw mapJoseError(err);
  }
}

function mapJoseError(err: unknown): unknown {
  if (err instanceof TokenRejectedError) return err;
  if (err instanceof errors.JWTExpired) return new TokenRejectedError('expired', 'token expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return new TokenRejectedError('audience', 'token is for another audience');
    if (err.claim === 'iss') return new TokenRejectedError('issuer', 'token is from another issuer');
    if (err.claim === 'nbf' || err.claim === 'iat') {
      return new TokenRejectedError('not_yet_valid', 'token is not valid yet');
    }
    return new TokenRejectedError('claims', `token claim ${err.claim} is invalid`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new TokenRejectedError('algorithm', 'token algorithm refused');
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenRejectedError('signature', 'token signature is invalid');
  }
  if (err instanceof errors.JWKSNoMatchingKey)
    return new TokenRejectedError('unknown_key', 'token key is unknown');
  if (err instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenRejectedError('unknown_key', 'token key is ambiguous');
  }
  if (
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JWTInvalid ||
    err instanceof errors.JOSENotSupported ||
    err instanceof errors.JWKInvalid
  ) {
    return new TokenRejectedError('malformed', 'token is malformed');
  }
  return err; // key source failures (KeysUnavailableError) and anything unexpected
}
