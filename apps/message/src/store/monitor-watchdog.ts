// The MongoDB driver (6.20, the one mongoose 8 pins) can lose its server monitor for good: a
// heartbeat sent on a connection that closes at that very moment never settles (no reply, no
// error, and no socket timeout on a closed socket), so the server stays Unknown and every
// operation fails server selection long after MongoDB is back. Seen after network cuts under load
// in about half the runs. The watchdog notices a heartbeat that outlived every timeout and reopens
// the connection, which gives the driver a new monitor. It also keeps opening a connection whose
// open failed (MongoDB down at start, or during a reopen): mongoose never retries a failed open.
import type { EventEmitter } from 'node:events';

export interface WatchdogOptions {
  /** The driver client now in use (a new one after each reopen). */
  client: () => EventEmitter;
  /** Whether the first open succeeded. */
  opened: boolean;
  /** Closes (if open) and opens the connection; may fail, and is then tried again. */
  reopen: () => Promise<void>;
  /** A heartbeat unsettled for this long is stuck: connectTimeoutMS + heartbeatFrequencyMS and a margin. */
  stuckAfterMs: number;
  onStuck?: (startedMsAgo: number) => void;
  onReopened?: () => void;
  onReopenFailed?: (err: unknown) => void;
  checkEveryMs?: number;
  now?: () => number;
}

export interface Watchdog {
  /** How many reopens succeeded. */
  readonly reopened: number;
  stop(): void;
}

export function watchMonitor(options: WatchdogOptions): Watchdog {
  const now = options.now ?? Date.now;
  let startedAt: number | null = null;
  let watched: EventEmitter | undefined;
  let opened = options.opened;
  let reopening = false;
  let reopened = 0;
  const started = () => {
    startedAt ??= now();
  };
  const settled = () => {
    startedAt = null;
  };
  const follow = () => {
    const client = options.client();
    if (client === watched) return;
    watched?.off('serverHeartbeatStarted', started);
    watched?.off('serverHeartbeatSucceeded', settled);
    watched?.off('serverHeartbeatFailed', settled);
    client.on('serverHeartbeatStarted', started);
    client.on('serverHeartbeatSucceeded', settled);
    client.on('serverHeartbeatFailed', settled);
    watched = client;
    startedAt = null;
  };
  follow();
  const timer = setInterval(() => {
    if (reopening) return;
    const age = startedAt === null ? 0 : now() - startedAt;
    const stuck = age >= options.stuckAfterMs;
    if (opened && !stuck) return;
    reopening = true;
    if (stuck) options.onStuck?.(age);
    options
      .reopen()
      .then(
        () => {
          opened = true;
          reopened++;
          options.onReopened?.();
        },
        (err: unknown) => {
          opened = false;
          options.onReopenFailed?.(err);
        },
      )
      .finally(() => {
        reopening = false;
        follow();
      });
  }, options.checkEveryMs ?? 1_000);
  timer.unref();
  return {
    get reopened() {
      return reopened;
    },
    stop: () => clearInterval(timer),
  };
}
