// Signing of access tokens (EdDSA JWTs); verification lives in @chatcluster/auth-client.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { KeyStore } from './key-store.js';

export interface AccessTokenOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
}

/** Signs a short-lived access token for the user with the store's current key. */
export async function issueAccessToken(
  keys: KeyStore,
  options: AccessTokenOptions,
  user: { id: string; username: string },
): Promise<{ token: string; expiresIn: number; kid: string }> {
  const key = keys.signingKey();
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ name: user.username })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(user.id)
    .setIssuedAt(now)
    .setExpirationTime(now + options.ttlSeconds)
    .setJti(randomUUID())
    .sign(key.privateKey);
  return { token, expiresIn: options.ttlSeconds, kid: key.kid };
}
