// Start the HTTP server and shut it down gracefully within a deadline (SIGTERM from Kubernetes):
// readiness fails first, then no new connections, in-flight requests drain, shutdown hooks close
// resources (newest first), and whatever is still open at the end is cut.
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Health } from './health.js';
import type { Logger } from './logger.js';

export type ShutdownHook = () => Promise<void> | void;

export interface NamedShutdownHook {
  name: string;
  fn: ShutdownHook;
}

export interface StartServiceOptions {
  app: RequestListener;
  port: number;
  /** Listens on every interface when unset. */
  host?: string;
  health: Health;
  logger: Logger;
  /** Everything, including preStopDelayMs and hooks, finishes within this after shutdown begins. */
  shutdownTimeoutMs: number;
  /** Time between failing readiness and closing the listener, so load balancers stop sending first. */
  preStopDelayMs?: number;
  /** Run in reverse order at shutdown, after in-flight requests drained. */
  onShutdown?: NamedShutdownHook[];
  /** Install SIGTERM/SIGINT handlers that shut down and exit (default true; tests pass false). */
  handleSignals?: boolean;
}

export interface Lifecycle {
  readonly server: Server;
  readonly port: number;
  /** Base URL for clients, e.g. http://127.0.0.1:8081. */
  readonly url: string;
  /** Adds a shutdown hook; hooks run newest first. */
  register: (name: string, fn: ShutdownHook) => void;
  /** Idempotent: later calls return the first call's promise. */
  shutdown: (reason: string) => Promise<void>;
}

export async function startService(options: StartServiceOptions): Promise<Lifecycle> {
  const { health, logger, shutdownTimeoutMs } = options;
  const hooks = [...(options.onShutdown ?? [])];
  const sockets = new Set<Socket>();
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let notifyDrained: (() => void) | undefined;

  const server = createServer();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Registered before the app so the header can still be set on requests that arrive while draining.
  server.on('request', (_req, res: ServerResponse) => {
    inFlight.add(res);
    if (draining) res.setHeader('connection', 'close');
    res.once('close', () => {
      inFlight.delete(res);
      if (inFlight.size === 0) notifyDrained?.();
    });
  });
  server.on('request', options.app);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${clientHost(options.host)}:${port}`;

  const drained = () =>
    inFlight.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (notifyDrained = resolve));

  async function runShutdown(reason: string): Promise<void> {
    const started = Date.now();
    const deadline = started + shutdownTimeoutMs;
    logger.info({ reason, shutdownTimeoutMs }, 'shutting down');
    health.markShuttingDown();
    if (options.preStopDelayMs) await delay(Math.min(options.preStopDelayMs, shutdownTimeoutMs));

    draining = true;
    for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    // Stops accepting and (Node >= 19) closes idle keep-alive connections; busy ones close after their response.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (!(await untilDeadline(drained(), deadline))) {
      logger.warn(
        { inFlight: inFlight.size },
        'shutdown deadline reached with requests in flight; cutting them',
      );
    }

    for (const hook of [...hooks].reverse()) {
      const finished = untilDeadline(
        Promise.resolve()
          .then(hook.fn)
          .catch((err: unknown) => logger.error({ err, hook: hook.name }, 'shutdown hook failed')),
        deadline,
      );
      if (!(await finished)) {
        logger.warn({ hook: hook.name }, 'shutdown hook did not finish before the deadline');
      }
    }

    for (const socket of sockets) socket.destroy();
    await closed;
    removeSignalHandlers();
    logger.info({ reason, durationMs: Date.now() - started }, 'shut down');
  }

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (reason: string) => (shuttingDown ??= runShutdown(reason));

  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal during shutdown; exiting now');
      process.exit(1);
    }
    shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  function removeSignalHandlers() {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }

  return {
    server,
    port,
    url,
    register: (name, fn) => hooks.push({ name, fn }),
    shutdown,
  };
}

function clientHost(host: string | undefined): string {
  if (host === undefined || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True if `work` settled before `deadline` (epoch ms); false if the deadline came first. */
async function untilDeadline(work: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work.then(() => true as const), expired]);
  } finally {
    clearTimeout(timer);
  }
}
