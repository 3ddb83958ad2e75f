// A private FerretDB (the MongoDB wire protocol on SQLite) on a free loopback port, standing in
// for MongoDB, which has no Debian package and no Go source to build from.
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { locateBinary } from './binaries.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { createTempDir, removeTempDir } from './tempdir.js';

export interface FerretDBOptions {
  /** debug, info, warn or error (default warn). */
  logLevel?: string;
  readyTimeoutMs?: number;
  /** The address it listens on and its URL names (default 127.0.0.1). */
  host?: string;
}

export interface FerretDBServer {
  /** `mongodb://<host>:<port>/` */
  url: string;
  host: string;
  port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

// Printed by tools/go/ferretdb/main.go once its listener is bound.
const readyLine = 'ferretdb listening at';

export async function startFerretDB(options: FerretDBOptions = {}): Promise<FerretDBServer> {
  const ferretdb = locateBinary('ferretdb');
  const dir = createTempDir('ferretdb');
  const port = await freePort();
  const host = options.host ?? '127.0.0.1';
  const logFile = join(dir, 'ferretdb.log');
  const dataDir = join(dir, 'data');
  // FerretDB's SQLite backend expects the directory to exist.
  mkdirSync(dataDir);
  let server: ManagedProcess;
  try {
    server = await ManagedProcess.start({
      name: 'ferretdb',
      command: ferretdb,
      args: [
        '--listen-addr',
        `${host}:${port}`,
        // The wrapper wants a file: URI of a directory, with the trailing slash. Tuned for tests like
        // the harness's PostgreSQL (no fsync): in WAL mode `synchronous(normal)` syncs at checkpoints
        // instead of every commit; a killed process loses nothing committed, only a power loss would.
        '--sqlite-url',
        `file:${dataDir}/?_pragma=synchronous(normal)`,
        '--log-level',
        options.logLevel ?? 'warn',
      ],
      cwd: dir,
      logFile,
      ready: async () => (await readFile(logFile, 'utf8')).includes(readyLine),
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
    });
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
  return {
    url: `mongodb://${host}:${port}/`,
    host,
    port,
    pid: server.pid,
    async stop() {
      await server.stop();
      await removeTempDir(dir);
    },
  };
}
