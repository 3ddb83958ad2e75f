// Boots the auth service in-process against real PostgreSQL and Redis from the harness. One server
// of each is shared by every test file of the run (started on first use, stopped after the last
// test); each boot gets a fresh database and its own Redis database number, so files do not see
// each other's data. Suites that restart a server start their own (see resilience.test.ts).
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { startPostgres, startRedis, type PostgresServer, type RedisServer } from '@chatcluster/harness';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import pg from 'pg';
import { startAuth, type AuthApp } from '../../src/app.js';

export const ISSUER = 'https://auth.chatcluster.test';
export const AUDIENCE = 'chatcluster-test';
/** The internal API token every boot has, unless a test unsets it (`INTERNAL_API_TOKEN: ''`). */
export const INTERNAL_TOKEN = 'auth-test-internal-token-0123456789';
/** The key-encryption key every boot seals its signing keys with (random per run). */
export const TEST_KEK = `test-kek:${randomBytes(32).toString('base64')}`;

interface Shared {
  postgres: PostgresServer;
  redis: RedisServer;
}

let shared: Promise<Shared> | undefined;
let databases = 0;
let redisDatabases = 0;

function servers(): Promise<Shared> {
  shared ??= Promise.all([startPostgres(), startRedis()]).then(([postgres, redis]) => ({ postgres, redis }));
  return shared;
}

// Registered on mocha's root suite when the first test file imports this module.
after(async () => {
  if (!shared) return;
  const { postgres, redis } = await shared;
  await Promise.all([postgres.stop(), redis.stop()]);
});

/** `url` with its database replaced by `database`. */
function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates an empty database on the server behind `serverUrl`; returns its URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  databases += 1;
  const database = `${name.replace(/\W/g, '_')}_${databases}`;
  const client = new pg.Client({ connectionString: withDatabase(serverUrl, 'postgres') });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
  return withDatabase(serverUrl, database);
}

export interface SharedPostgres {
  readonly server: PostgresServer;
  newDatabase(name: string): Promise<string>;
}

export async function sharedPostgres(): Promise<SharedPostgres> {
  const { postgres } = await servers();
  return { server: postgres, newDatabase: (name) => createDatabase(postgres.url, name) };
}

/** A database number of the shared Redis no other boot of this run uses (1-15), emptied. */
async function sharedRedisDatabase(): Promise<string> {
  const { redis } = await servers();
  redisDatabases = (redisDatabases % 15) + 1;
  const url = `${redis.url}/${redisDatabases}`;
  const client = new Redis(url);
  try {
    await client.flushdb();
  } finally {
    client.disconnect();
  }
  return url;
}

export interface BootOptions {
  /** Variables on top of the test defaults. */
  readonly env?: Record<string, string>;
  /** Defaults to a fresh database on the shared server. */
  readonly postgresUrl?: string;
  /** Defaults to an unused database number on the shared server. */
  readonly redisUrl?: string;
}

export interface TestAuth {
  readonly url: string;
  readonly issuer: string;
  readonly audience: string;
  readonly postgresUrl: string;
  readonly redisUrl: string;
  /** The test's own Redis client on the service's database (default options: it waits out outages). */
  readonly redis: Redis;
  readonly app: AuthApp;
  /** Signs a token with the service's current key; any claim can be overridden. */
  sign(claims: { sub: string; iss?: string; aud?: string; exp?: number }): Promise<string>;
  /** Another instance on the same database and Redis, like a second replica. */
  replica(env?: Record<string, string>): Promise<TestAuth>;
  stop(): Promise<void>;
}

export async function bootAuth(name: string, options: BootOptions = {}): Promise<TestAuth> {
  const postgresUrl = options.postgresUrl ?? (await (await sharedPostgres()).newDatabase(`auth_${name}`));
  const redisUrl = options.redisUrl ?? (await sharedRedisDatabase());
  return boot(postgresUrl, redisUrl, options.env ?? {});
}

async function boot(
  postgresUrl: string,
  redisUrl: string,
  extraEnv: Record<string, string>,
): Promise<TestAuth> {
  const env = {
    PORT: '0',
    LOG_LEVEL: process.env['AUTH_TEST_LOG_LEVEL'] ?? 'silent',
    POSTGRES_URL: postgresUrl,
    REDIS_URL: redisUrl,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    INTERNAL_API_TOKEN: INTERNAL_TOKEN,
    KEY_ENCRYPTION_KEYS: TEST_KEK,
    ...extraEnv,
  };
  const app = await startAuth({ env, host: '127.0.0.1', handleSignals: false });
  const redis = new Redis(redisUrl);
  redis.on('error', () => undefined); // resilience tests stop Redis under it
  return {
    url: app.service.url,
    issuer: ISSUER,
    audience: AUDIENCE,
    postgresUrl,
    redisUrl,
    redis,
    app,
    async sign(claims) {
      const key = app.keys.signingKey();
      const exp = claims.exp ?? Math.floor(Date.now() / 1000) + 900;
      return new SignJWT({ name: 'test' })
        .setProtectedHeader({ alg: key.alg, kid: key.kid })
        .setIssuer(claims.iss ?? ISSUER)
        .setAudience(claims.aud ?? AUDIENCE)
        .setSubject(claims.sub)
        .setIssuedAt(exp - 900)
        .setExpirationTime(exp)
        .setJti(crypto.randomUUID())
        .sign(key.privateKey);
    },
    replica: (env = {}) => boot(postgresUrl, redisUrl, { ...extraEnv, ...env }),
    async stop() {
      redis.disconnect();
      await app.service.shutdown('test finished');
    },
  };
}

/** Resolves once nothing accepts connections on `port` any more (a server was stopped). */
export async function untilRefused(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
      socket.connect(port, '127.0.0.1');
    });
    if (refused) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} still accepts connections after ${timeoutMs} ms`);
}
