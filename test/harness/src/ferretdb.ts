// A private FerretDB (the MongoDB wire protocol) on a free loopback port, standing in for MongoDB,
// which has no Debian package and no Go source to build from. Its documents go to PostgreSQL by
// default: on the service's own documents FerretDB v1 inserts about 3 times as fast on PostgreSQL
// as on SQLite (bench/src/ferretdb-backends.ts; figures in bench/README.md). SQLite stays available.
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { locateBinary } from './binaries.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { createPostgresDatabase, startPostgres, type PostgresServer } from './postgres.js';
import { createTempDir, removeTempDir } from './tempdir.js';

export interface FerretDBOptions {
  /** debug, info, warn or error (default warn). */
  logLevel?: string;
  readyTimeoutMs?: number;
  /** The address it listens on and its URL names (default 127.0.0.1). */
  host?: string;
  /** Where the documents go (default: $FERRETDB_BACKEND, else postgresql; the variable compares the two on any suite). */
  backend?: 'postgresql' | 'sqlite';
  /**
   * For postgresql: a running server that holds the documents in a database of their own (named
   * `database`, created here). Without it a private server (the harness's: no fsync) is started and
   * stopped with FerretDB.
   */
  postgres?: PostgresServer;
  /** The PostgreSQL database FerretDB uses (default `ferretdb`). */
  database?: string;
}

export interface FerretDBServer {
  /** `mongodb://<host>:<port>/` */
  url: string;
  host: string;
  port: number;
  readonly pid: number;
  /** The backend holding the documents. */
  backend: 'postgresql' | 'sqlite';
  stop(): Promise<void>;
}

// Printed by tools/go/ferretdb/main.go once its listener is bound.
const readyLine = 'ferretdb listening at';

export async function startFerretDB(options: FerretDBOptions = {}): Promise<FerretDBServer> {
  const ferretdb = locateBinary('ferretdb');
  const backend = options.backend ?? (process.env['FERRETDB_BACKEND'] === 'sqlite' ? 'sqlite' : 'postgresql');
  const host = options.host ?? '127.0.0.1';
  const database = options.database ?? 'ferretdb';
  const dir = createTempDir('ferretdb');
  const logFile = join(dir, 'ferretdb.log');
  let ownPostgres: PostgresServer | undefined;
  let server: ManagedProcess;
  try {
    const port = await freePort();
    let storage: string[];
    if (backend === 'postgresql') {
      let url: string;
      if (options.postgres) url = await createPostgresDatabase(options.postgres, database);
      else {
        ownPostgres = await startPostgres({ database, host });
        url = ownPostgres.url;
      }
      storage = ['--handler', 'postgresql', '--postgresql-url', url];
    } else {
      // FerretDB's SQLite backend expects the directory to exist.
      const dataDir = join(dir, 'data');
      mkdirSync(dataDir);
      // The wrapper wants a file: URI of a directory, with the trailing slash. Tuned for tests like
      // the harness's PostgreSQL (no fsync): in WAL mode `synchronous(normal)` syncs at checkpoints
      // instead of every commit; a killed process loses nothing committed, only a power loss would.
      storage = ['--sqlite-url', `file:${dataDir}/?_pragma=synchronous(normal)`];
    }
    server = await ManagedProcess.start({
      name: 'ferretdb',
      command: ferretdb,
      args: ['--listen-addr', `${host}:${port}`, ...storage, '--log-level', options.logLevel ?? 'warn'],
      cwd: dir,
      logFile,
      ready: async () => (await readFile(logFile, 'utf8')).includes(readyLine),
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
    });
    return {
      url: `mongodb://${host}:${port}/`,
      host,
      port,
      backend,
      get pid() {
        return server.pid;
      },
      async stop() {
        await server.stop();
        await ownPostgres?.stop();
        await removeTempDir(dir);
      },
    };
  } catch (error) {
    await ownPostgres?.stop();
    await removeTempDir(dir);
    throw error;
  }
}
