// Opaque refresh tokens: how they look, and the only form in which they are stored.
import { createHash, randomBytes } from 'node:crypto';

/** Opaque refresh tokens: 256 random bits, prefixed so secret scanners can recognise them. */
export const REFRESH_TOKEN_PREFIX = 'ccrt_';

export function newRefreshToken(): string {
  return REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Only this hash is stored; a database leak does not reveal usable tokens. */
export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function looksLikeRefreshToken(token: string): boolean {
  return /^ccrt_[A-Za-z0-9_-]{43}$/.test(token);
}
