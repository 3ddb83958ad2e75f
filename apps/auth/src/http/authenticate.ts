// Who is calling: end users by their access token, other services by the internal API token.
import { createHash, timingSafeEqual } from 'node:crypto';
import { bearerToken, verifyAccessToken, type AccessTokenClaims } from '@chatcluster/auth-client';
import { kitErrors } from '@chatcluster/kit';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { KeyStore } from '../tokens/key-store.js';

/** The verified caller, set by `requireUser`. */
export function caller(res: Response): AccessTokenClaims {
  const claims = res.locals['claims'] as AccessTokenClaims | undefined;
  if (!claims) throw kitErrors.UNAUTHENTICATED('no access token');
  return claims;
}

/**
 * Verifies the access token against auth's own published keys (no network, no database). A
 * refused token is the client's TokenRejectedError, which is the kit's 401 UNAUTHENTICATED.
 */
export function requireUser(keys: KeyStore, options: { issuer: string; audience: string }): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      next(kitErrors.UNAUTHENTICATED('an access token is required (Authorization: Bearer …)'));
      return;
    }
    verifyAccessToken(token, keys.getKey(), options).then((claims) => {
      res.locals['claims'] = claims;
      next();
    }, next);
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * Guards the internal API with a shared bearer token. Fails closed: without a configured token
 * every request is refused, so a missing Secret never opens member lists to whoever reaches the port.
 */
export function requireInternalToken(token: string | undefined): RequestHandler {
  const expected = token ? digest(token) : null;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!expected) {
      next(kitErrors.UNAUTHENTICATED('the internal API is closed: INTERNAL_API_TOKEN is not configured'));
      return;
    }
    const presented = bearerToken(req.headers.authorization);
    if (presented && timingSafeEqual(digest(presented), expected)) next();
    else next(kitErrors.UNAUTHENTICATED('the internal API needs the service token'));
  };
}
