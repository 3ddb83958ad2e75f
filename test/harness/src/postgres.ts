// A private PostgreSQL server on a free loopback port with a throwaway data directory, tuned for
// tests (trust auth, no fsync) and restartable in place for resilience tests.
import { appendFileSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { locateBinary } from './binaries.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { runCommand } from './run-command.js';
import { runningAsRoot, systemUser } from './system-user.js';
import type { SystemUser } from './system-user.js';
import { createTempDir, removeTempDir } from './tempdir.js';

export interface PostgresOptions {
  /** The database created for the test (default `chatcluster`). */
  database?: string;
  /** Extra server settings, passed as `-c key=value`. */
  settings?: Record<string, string>;
  readyTimeoutMs?: number;
  /** The address it listens on and its URL names (default 127.0.0.1), e.g. the local cluster's
   * node address, which pods reach. */
  host?: string;
  /** Networks (CIDR) whose clients are trusted besides loopback, e.g. the cluster's pod network. */
  trustedNetworks?: string[];
}

export interface PostgresServer {
  /** `postgres://postgres@<host>:<port>/<database>` */
  url: string;
  host: string;
  port: number;
  database: string;
  user: string;
  dataDir: string;
  /** The postmaster's pid (changes on restart). */
  readonly pid: number;
  /** Stops the server (fast shutdown), optionally waits, and starts it again on the same port and data. */
  restart(options?: { downForMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

const superuser = 'postgres';

async function answersQueries(host: string, port: number): Promise<boolean> {
  const client = new pg.Client({
    host,
    port,
    user: superuser,
    database: 'postgres',
    connectionTimeoutMillis: 1_000,
  });
  // A connection error after connect (e.g. shutdown) must not become an unhandled 'error' event.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

async function createDatabase(host: string, port: number, database: string): Promise<void> {
  const client = new pg.Client({ host, port, user: superuser, database: 'postgres' });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates database `name` on a running server (e.g. FerretDB's beside the platform's); returns its URL. */
export async function createPostgresDatabase(
  server: Pick<PostgresServer, 'host' | 'port' | 'user'>,
  name: string,
): Promise<string> {
  await createDatabase(server.host, server.port, name);
  return `postgres://${server.user}@${server.host}:${server.port}/${name}`;
}

async function initDataDir(dir: string, dataDir: string, user: SystemUser | undefined): Promise<void> {
  const initdb = locateBinary('initdb');
  const result = await runCommand(
    initdb,
    ['-D', dataDir, '-U', superuser, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
    { cwd: dir, user },
  );
  if (result.code !== 0) {
    const output = `${result.stdout}${result.stderr}`.trimEnd().split('\n').slice(-25).join('\n');
    throw new Error(`harness: initdb (${initdb}) failed with code ${result.code}:\n${output}`);
  }
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const postgres = locateBinary('postgres');
  const database = options.database ?? 'chatcluster';
  // PostgreSQL refuses to run as root; CI runs tests as root.
  const user = runningAsRoot() ? systemUser('postgres') : undefined;
  const dir = createTempDir('postgres');
  const dataDir = join(dir, 'data');
  if (user) chownSync(dir, user.uid, user.gid);
  const port = await freePort();
  const host = options.host ?? '127.0.0.1';
  const settings: Record<string, string> = {
    listen_addresses: host,
    // The Debian default (/var/run/postgresql) may not exist or be writable.
    unix_socket_directories: dir,
    // Durability is pointless for throwaway data and costs seconds per suite.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...options.settings,
  };
  const args = ['-D', dataDir, '-p', String(port)];
  for (const [key, value] of Object.entries(settings)) args.push('-c', `${key}=${value}`);

  const startServer = (): Promise<ManagedProcess> =>
    ManagedProcess.start({
      name: 'postgres',
      command: postgres,
      args,
      cwd: dir,
      user,
      logFile: join(dir, 'postgres.log'),
      ready: () => answersQueries(host, port),
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
      // SIGTERM is "smart" shutdown, which waits for every client to disconnect.
      stopSignal: 'SIGINT',
    });

  let server: ManagedProcess | undefined;
  try {
    await initDataDir(dir, dataDir, user);
    // initdb trusts loopback only: the listen address itself (this machine's clients) and the given networks too.
    const networks = [...(host === '127.0.0.1' ? [] : [`${host}/32`]), ...(options.trustedNetworks ?? [])];
    const trusted = networks.map((network) => `host all all ${network} trust\n`);
    if (trusted.length > 0) appendFileSync(join(dataDir, 'pg_hba.conf'), trusted.join(''));
    server = await startServer();
    await createDatabase(host, port, database);
  } catch (error) {
    await server?.stop();
    await removeTempDir(dir);
    throw error;
  }
  let current = server;

  return {
    url: `postgres://${superuser}@${host}:${port}/${database}`,
    host,
    port,
    database,
    user: superuser,
    dataDir,
    get pid() {
      return current.pid;
    },
    async restart({ downForMs = 0 } = {}) {
      await current.stop();
      if (downForMs > 0) await delay(downForMs);
      current = await startServer();
    },
    async stop() {
      await current.stop();
      await removeTempDir(dir);
    },
  };
}
