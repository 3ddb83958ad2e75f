// Runs the notification service for a test, in-process or as a child process (for kill tests),
// with timings short enough for tests, and reads its metrics and stream state.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '@chatcluster/harness';
import { Redis } from 'ioredis';
import { startNotification, type NotificationApp } from '../../../src/app.js';
import { AUDIENCE, INTERNAL_TOKEN, ISSUER } from './environment.js';

export const FCM_PROJECT = 'chatcluster-test';
export const FCM_TOKEN = 'ya29.test-access-token';
export const SENDGRID_KEY = 'SG.test-api-key';

export interface Endpoints {
  readonly redisUrl: string;
  readonly authUrl: string;
  readonly fcmUrl: string;
  readonly sendgridUrl: string;
}

/** The service's environment for tests: fast timings, every one overridable. */
export function serviceEnv(
  endpoints: Endpoints,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    PORT: '0',
    LOG_LEVEL: process.env['NOTIFY_TEST_LOG_LEVEL'] ?? 'silent',
    REDIS_URL: endpoints.redisUrl,
    AUTH_URL: endpoints.authUrl,
    INTERNAL_API_TOKEN: INTERNAL_TOKEN,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    INSTANCE_ID: 'notification-test',
    FCM_BASE_URL: endpoints.fcmUrl,
    FCM_PROJECT_ID: FCM_PROJECT,
    FCM_ACCESS_TOKEN: FCM_TOKEN,
    SENDGRID_BASE_URL: endpoints.sendgridUrl,
    SENDGRID_API_KEY: SENDGRID_KEY,
    SENDGRID_FROM_EMAIL: 'notifications@chatcluster.test',
    READ_BLOCK_MS: '200',
    RETRY_PASS_INTERVAL_MS: '300',
    CLAIM_IDLE_MS: '3000',
    LAG_INTERVAL_MS: '200',
    TRIM_INTERVAL_MS: '1h',
    MEMBERS_CACHE_MS: '500',
    PROVIDER_CALL_TIMEOUT_MS: '1000',
    DELIVERY_TOTAL_TIMEOUT_MS: '4000',
    RETRY_DELAYS_MS: '20,40,80',
    RETRY_AFTER_MAX_MS: '2500',
    BREAKER_RESET_MS: '1000',
    PROVIDER_QUEUE_TIMEOUT_MS: '4000',
    SHUTDOWN_TIMEOUT_MS: '10000',
    SHUTDOWN_DRAIN_MS: '5000',
    ...overrides,
  };
}

export async function startInProcess(env: Record<string, string>): Promise<NotificationApp> {
  return startNotification({ env, host: '127.0.0.1', handleSignals: false });
}

const here = dirname(fileURLToPath(import.meta.url));
const mainJs = join(here, '../../../src/main.js');
/** The message service as `make build` leaves it (apps/message/dist/src/main.js). */
export const messageMainJs = join(here, '../../../../../message/dist/src/main.js');

export interface ChildService {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process ended. */
  readonly exited: Promise<number | NodeJS.Signals>;
  readonly output: () => string;
}

/** Starts a service's main (this service's by default) with `env` on a free port and waits for readiness. */
export async function startChild(env: Record<string, string>, script = mainJs): Promise<ChildService> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code ?? -1)),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${script} exited before it was ready:\n${output}`);
    }
    const ok = await fetch(`${url}/health/readiness`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${script} not ready within 30 s:\n${output}`);
    }
    await delay(100);
  }
  return { url, child, exited, output: () => output };
}

/** Polls `check` until it returns true; the error names `what`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(25);
  }
}

/** The value of one sample of /metrics (0 when the series does not exist yet). */
export async function metric(
  serviceUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  return sampleOf(text, name, labels);
}

export function sampleOf(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.lastIndexOf('}')) : '';
    const has = Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`));
    if (!has) continue;
    found = true;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return found ? total : 0;
}

/** Entries of chat:notify not acknowledged by the group: pending plus unread. */
export async function unacknowledged(redis: Redis): Promise<number> {
  const groups = (await redis.xinfo('GROUPS', 'chat:notify').catch(() => [])) as unknown[][];
  const group = groups.find((g) => g[1] === 'notification');
  if (!group) return await redis.xlen('chat:notify');
  const field = (name: string) => group[group.indexOf(name) + 1];
  return Number(field('pending')) + Number(field('lag') ?? 0);
}

export function testRedis(url: string): Redis {
  const redis = new Redis(url);
  redis.on('error', () => undefined);
  return redis;
}
