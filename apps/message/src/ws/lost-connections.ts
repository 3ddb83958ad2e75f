// Connections a crashed process took with it. A process killed outright (SIGKILL, OOM) never counts
// the closes of its open connections, and its clients reconnect to the survivors, so the stability SLI
// would see only healthy opens. Each process keeps its number of open connections in Redis under its
// instance id (the pod name, which a restarted container keeps); a graceful shutdown removes the key
// once its connections are drained. The next process of the same instance takes the key over with
// `SET ... GET`: a count left behind is what its predecessor lost, counted as closes with reason `lost`.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '@chatcluster/kit';
import type { RedisGuard } from '../bus/redis-guard.js';
import type { MessageMetrics } from '../metrics.js';

/** String `<process id> <open connections>` of this instance, a few seconds old at most. */
export const openConnectionsKey = (instanceId: string): string => `chat:ws:open:${instanceId}`;

export interface LostConnectionsOptions {
  redis: Redis;
  guard: RedisGuard;
  instanceId: string;
  /** Open connections now. */
  openNow: () => number;
  metrics: Pick<MessageMetrics, 'connectionsClosed'>;
  logger: Logger;
  /** How often the count is written: connections opened or closed since are the estimate's error. */
  intervalMs?: number;
  /** A key older than this is dropped (a pod that never came back). */
  ttlSeconds?: number;
}

const DEFAULT_INTERVAL_MS = 2_000;
const DEFAULT_TTL_SECONDS = 3_600;

export class LostConnections {
  #timer: NodeJS.Timeout | undefined;
  /** Whether the predecessor's count was taken over; until then every write takes it over. */
  #claimed = false;
  #writing: Promise<void> | undefined;
  /**
   * Written with the count, so a take-over that reached Redis but timed out here, and is repeated,
   * does not read this process's own count as lost.
   */
  readonly #process = randomUUID();

  constructor(private readonly options: LostConnectionsOptions) {}

  start(): void {
    const tick = () => {
      this.#writing = this.#write().finally(() => (this.#writing = undefined));
    };
    tick();
    this.#timer = setInterval(tick, this.options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.#timer.unref();
  }

  /** After the drain: no connection is left, so a later process must not count any as lost. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#writing;
    const { redis, guard, instanceId, logger } = this.options;
    await guard
      .run('open connections delete', () => redis.del(openConnectionsKey(instanceId)))
      .catch((err: unknown) => logger.warn({ err }, 'open connections key not deleted'));
  }

  async #write(): Promise<void> {
    const { redis, guard, instanceId, openNow, logger, metrics } = this.options;
    const ttlSeconds = this.options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    const key = openConnectionsKey(instanceId);
    try {
      if (this.#claimed) {
        await guard.run('open connections record', () =>
          redis.set(key, this.#value(openNow()), 'EX', ttlSeconds),
        );
        return;
      }
      const previous = await guard.run('open connections take over', () =>
        redis.set(key, this.#value(openNow()), 'EX', ttlSeconds, 'GET'),
      );
      this.#claimed = true;
      const [process, count] = (previous ?? '').split(' ');
      const lost = process === this.#process ? 0 : Number(count ?? 0) || 0;
      if (lost > 0) {
        metrics.connectionsClosed.inc({ reason: 'lost' }, lost);
        logger.warn(
          { lost, instanceId },
          'the previous process of this instance ended with connections open',
        );
      }
    } catch (err) {
      // Redis away: the next write tries again (and takes over then).
      logger.debug({ err }, 'open connections not recorded');
    }
  }

  #value(open: number): string {
    return `${this.#process} ${open}`;
  }
}
