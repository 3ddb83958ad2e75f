// A private Redis server on a free loopback port; in-memory by default, optionally with an
// append-only file so a restart keeps the data (for recovery tests).
import { Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { locateBinary } from './binaries.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { createTempDir, removeTempDir } from './tempdir.js';

export interface RedisOptions {
  /** Persist writes to an append-only file in the temp dir, so restart() keeps them. */
  appendOnly?: boolean;
  /** Extra `--name value` arguments, e.g. `{ maxmemory: '10mb' }`. */
  config?: Record<string, string>;
  readyTimeoutMs?: number;
  /** The address it listens on and its URL names (default 127.0.0.1). */
  host?: string;
}

export interface RedisServer {
  /** `redis://<host>:<port>` */
  url: string;
  host: string;
  port: number;
  /** The server's pid (changes on restart). */
  readonly pid: number;
  /** Stops the server, optionally waits, and starts it again on the same port and directory. */
  restart(options?: { downForMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** True when the server answers PING with PONG (not, e.g., -LOADING while it replays its AOF). */
function answersPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const redisServer = locateBinary('redis-server');
  const dir = createTempDir('redis');
  const port = await freePort();
  const host = options.host ?? '127.0.0.1';
  const settings: Record<string, string> = {
    port: String(port),
    bind: host,
    // Without a password, protected mode answers only loopback clients (pods are not).
    'protected-mode': host === '127.0.0.1' ? 'yes' : 'no',
    dir,
    // Empty save list: no RDB snapshots; the test decides about persistence.
    save: '',
    appendonly: options.appendOnly ? 'yes' : 'no',
    daemonize: 'no',
    // Log to stdout, which goes to the captured log file.
    logfile: '',
    ...options.config,
  };
  const args = Object.entries(settings).flatMap(([key, value]) => [`--${key}`, value]);
  const startServer = (): Promise<ManagedProcess> =>
    ManagedProcess.start({
      name: 'redis-server',
      command: redisServer,
      args,
      cwd: dir,
      logFile: join(dir, 'redis.log'),
      ready: () => answersPing(host, port),
      readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
    });

  let current: ManagedProcess;
  try {
    current = await startServer();
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
  return {
    url: `redis://${host}:${port}`,
    host,
    port,
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
