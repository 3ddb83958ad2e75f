// The real components every integration test shares, started once per run on first use and
// stopped after the last test: Redis, PostgreSQL with the auth service in front of it, and
// Toxiproxy. Each test gets a Redis database of its own (1-15; auth keeps 0).
import { startAuth, type AuthApp } from '@chatcluster/auth';
import {
  startPostgres,
  startRedis,
  startToxiproxy,
  type PostgresServer,
  type RedisServer,
  type ToxiproxyServer,
} from '@chatcluster/harness';
import { Redis } from 'ioredis';

export const ISSUER = 'https://auth.notification.test';
export const AUDIENCE = 'chatcluster-notification-test';
export const INTERNAL_TOKEN = 'notification-test-internal-token';

export interface Environment {
  readonly redis: RedisServer;
  readonly postgres: PostgresServer;
  readonly toxiproxy: ToxiproxyServer;
  readonly auth: AuthApp;
  readonly authUrl: string;
}

let shared: Promise<Environment> | undefined;
let lastDatabase = 0;

async function start(): Promise<Environment> {
  const [redis, postgres, toxiproxy] = await Promise.all([startRedis(), startPostgres(), startToxiproxy()]);
  const auth = await startAuth({
    env: {
      PORT: '0',
      LOG_LEVEL: process.env['NOTIFY_TEST_LOG_LEVEL'] ?? 'silent',
      POSTGRES_URL: postgres.url,
      REDIS_URL: `${redis.url}/0`,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      INTERNAL_API_TOKEN: INTERNAL_TOKEN,
      // Tests sign up many users from one address.
      SIGNUP_IP_LIMIT: '100000',
    },
    host: '127.0.0.1',
    handleSignals: false,
  });
  return { redis, postgres, toxiproxy, auth, authUrl: auth.service.url };
}

export function environment(): Promise<Environment> {
  shared ??= start();
  return shared;
}

// Registered on mocha's root suite when the first test file imports this module.
after(async () => {
  if (!shared) return;
  const env = await shared;
  await env.auth.service.shutdown('tests finished');
  await Promise.all([env.redis.stop(), env.postgres.stop(), env.toxiproxy.stop()]);
});

/** The URL of a Redis database no running test uses, emptied. */
export async function freshRedisUrl(): Promise<string> {
  const { redis } = await environment();
  lastDatabase = (lastDatabase % 15) + 1;
  const url = `${redis.url}/${lastDatabase}`;
  const client = new Redis(url);
  try {
    await client.flushdb();
  } finally {
    client.disconnect();
  }
  return url;
}
