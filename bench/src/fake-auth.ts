// The benchmark's stand-in for auth: signs tokens with its own Ed25519 key, serves the JWKS, and
// fills the shared membership cache so the message service never has to ask (the real auth service
// would spend minutes hashing 5,000 passwords before the load even starts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import type { Redis } from 'ioredis';
import { writeMembershipCache } from '@chatcluster/auth-client';

export const ISSUER = 'https://auth.bench';
export const AUDIENCE = 'chatcluster-bench';

export interface FakeAuth {
  url: string;
  token(userId: string): Promise<string>;
  /** Makes every user a member of its channel in the cache (and in lookups). */
  grant(redis: Redis, pairs: readonly { channelId: string; userId: string }[]): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeAuth(): Promise<FakeAuth> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'EdDSA', use: 'sig' };
  const members = new Set<string>();
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    const lookup = /^\/internal\/v1\/channels\/([^/]+)\/members\/([^/?]+)$/.exec(url);
    res.setHeader('content-type', 'application/json');
    if (url === '/.well-known/jwks.json') {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else if (lookup) {
      const [, channelId, userId] = lookup as unknown as [string, string, string];
      const member = members.has(`${channelId}:${userId}`);
      res.end(
        JSON.stringify({
          channelId,
          userId,
          member,
          role: member ? 'member' : null,
          channel: 'active',
          visibility: 'public',
          version: 1,
        }),
      );
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    token: (userId) =>
      new SignJWT({ name: userId.slice(0, 8) })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'bench' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setJti(`${userId}-${Date.now()}`)
        .setExpirationTime('2h')
        .sign(privateKey),
    async grant(redis, pairs) {
      for (const { channelId, userId } of pairs) {
        members.add(`${channelId}:${userId}`);
        await writeMembershipCache(
          redis,
          {
            channelId,
            userId,
            member: true,
            role: 'member',
            channel: 'active',
            visibility: 'public',
            version: 1,
          },
          7_200,
        );
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
