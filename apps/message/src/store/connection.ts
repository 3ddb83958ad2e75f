// The message service's MongoDB connection: fails fast while MongoDB is away (no command buffering,
// so the breaker sees it and sends answer 503), finds it back quickly (2 s heartbeats), and is
// reopened by the watchdog when the driver's monitor hangs or the open failed.
import mongoose, { type Connection } from 'mongoose';
import type { Logger } from '@chatcluster/kit';
import { createModels, ensureIndexes, type Models } from './models.js';
import { watchMonitor } from './monitor-watchdog.js';

export interface MessageDatabase {
  connection: Connection;
  models: Models;
  close(): Promise<void>;
}

const options = {
  bufferCommands: false,
  serverSelectionTimeoutMS: 2_000,
  connectTimeoutMS: 3_000,
  heartbeatFrequencyMS: 2_000,
  socketTimeoutMS: 10_000,
  maxPoolSize: 50,
};

export async function openMessageDatabase(url: string, logger: Logger): Promise<MessageDatabase> {
  const connection = mongoose.createConnection(url, options);
  connection.on('error', () => undefined);
  const opened = await connection.asPromise().then(
    () => true,
    (err: unknown) => {
      logger.warn({ err }, 'MongoDB not reachable at start');
      return false;
    },
  );
  const models = createModels(connection);
  // The unique indexes decide idempotency races: made at start, or once MongoDB is reachable.
  const ensureAllIndexes = () =>
    ensureIndexes(models).catch((err: unknown) => logger.warn({ err }, 'indexes not ensured yet'));
  if (opened) await ensureAllIndexes();
  const watchdog = watchMonitor({
    client: () => connection.getClient(),
    opened,
    // Not a forced close: mongoose refuses every later operation on a force-closed connection.
    reopen: async () => {
      await connection.close();
      await connection.openUri(url, options);
    },
    stuckAfterMs: options.connectTimeoutMS + options.heartbeatFrequencyMS + 2_000,
    onStuck: (ms) => logger.warn({ ms }, 'MongoDB monitor stuck on a heartbeat; reopening the connection'),
    onReopened: () => {
      logger.warn('MongoDB connection reopened');
      void ensureAllIndexes();
    },
    onReopenFailed: (err) => logger.warn({ err }, 'MongoDB connection not opened; trying again'),
  });
  return {
    connection,
    models,
    close: () => {
      watchdog.stop();
      return connection.close();
    },
  };
}
