// The environment of the integration tests: real PostgreSQL, Redis and FerretDB (behind Toxiproxy,
// so a test can take MongoDB away), the real auth service and two message instances, all as processes.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startFerretDB,
  startPostgres,
  startRedis,
  startToxiproxy,
  type FerretDBServer,
  type RedisServer,
  type ToxiproxyServer,
} from '@chatcluster/harness';
import { startProcess, stopProcess, type ServiceProcess } from './processes.js';

const here = dirname(fileURLToPath(import.meta.url));
/** apps/message/dist/test/support → apps/message/dist/src/main.js */
export const messageMain = join(here, '..', '..', 'src', 'main.js');
export const webDir = join(here, '..', '..', '..', 'web');
/** The real auth service, built by `make build` (apps/auth/dist/src/main.js). */
const authMain = join(here, '..', '..', '..', '..', 'auth', 'dist', 'src', 'main.js');

export const ISSUER = 'https://auth.chatcluster.test';
export const AUDIENCE = 'chatcluster-test';
/** Auth's internal API (membership lookups) refuses every call without a configured token. */
const INTERNAL_API_TOKEN = 'message-test-internal-token';

export interface Stack {
  redis: RedisServer;
  ferret: FerretDBServer;
  toxiproxy: ToxiproxyServer;
  /** Name of the Toxiproxy proxy in front of FerretDB. */
  mongoProxy: string;
  auth: ServiceProcess;
  instances: ServiceProcess[];
  messageEnv: Record<string, string>;
  /** Starts one more message instance (e.g. after one was killed). */
  startInstance(name: string, env?: Record<string, string>): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

export async function startStack(
  options: { instances?: number; env?: Record<string, string>; authEnv?: Record<string, string> } = {},
): Promise<Stack> {
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const [postgres, redis, ferret, toxiproxy] = await Promise.all([
      startPostgres(),
      startRedis(),
      startFerretDB(),
      startToxiproxy(),
    ]);
    cleanups.push(
      () => postgres.stop(),
      () => redis.stop(),
      () => ferret.stop(),
      () => toxiproxy.stop(),
    );
    const mongoProxy = 'mongodb';
    const proxy = await toxiproxy.createProxy(mongoProxy, `${ferret.host}:${ferret.port}`);
    const auth = await startProcess('auth', authMain, {
      POSTGRES_URL: postgres.url,
      REDIS_URL: redis.url,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      // Tests sign up many users from one address.
      SIGNUP_IP_LIMIT: '100000',
      LOGIN_IP_LIMIT: '100000',
      INTERNAL_API_TOKEN,
      ...options.authEnv,
    });
    cleanups.push(() => stopProcess(auth));
    const messageEnv: Record<string, string> = {
      MONGO_URL: `mongodb://${proxy.listen}/chat`,
      REDIS_URL: redis.url,
      AUTH_URL: auth.url,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      INTERNAL_API_TOKEN,
      OUTBOX_SWEEP_MS: '2000',
      SHUTDOWN_TIMEOUT_MS: '10000',
      RECONNECT_SPREAD_MS: '300',
      WEB_DIR: webDir,
      ...options.env,
    };
    const started: ServiceProcess[] = [];
    const startInstance = async (name: string, env: Record<string, string> = {}) => {
      const p = await startProcess(name, messageMain, { ...messageEnv, INSTANCE_ID: name, ...env });
      started.push(p);
      return p;
    };
    const instances: ServiceProcess[] = [];
    for (let i = 0; i < (options.instances ?? 2); i++)
      instances.push(await startInstance(`message-${i + 1}`));
    return {
      redis,
      ferret,
      toxiproxy,
      mongoProxy,
      auth,
      instances,
      messageEnv,
      startInstance,
      async stop() {
        await Promise.all(started.map((p) => stopProcess(p)));
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    throw err;
  }
}
