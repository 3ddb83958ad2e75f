// Stream lag as metrics: entries the group has not acknowledged (unread plus pending) and the age
// of the oldest of them, refreshed on a timer. A growing age while a breaker is open is the
// "notifications are waiting" signal on the dashboard.
import type { Logger } from '@chatcluster/kit';
import type { Redis } from 'ioredis';
import type { NotificationMetrics } from '../metrics.js';
import { groupStates } from './group-info.js';
import { idTime, minId } from './stream-ids.js';

export interface StreamLag {
  readonly pending: number;
  readonly oldestPendingSeconds: number;
}

/** Beyond this many unread entries the count is not exact when Redis cannot tell the lag. */
const COUNT_CAP = 10_000;

export async function measureLag(
  redis: Redis,
  stream: string,
  group: string,
  now = Date.now(),
): Promise<StreamLag> {
  const state = (await groupStates(redis, stream)).find((g) => g.name === group);
  if (!state) return { pending: 0, oldestPendingSeconds: 0 };
  const firstUnread = await redis.xrange(stream, `(${state.lastDeliveredId}`, '+', 'COUNT', 1);
  let unread = state.lag;
  if (unread === null) {
    unread = (await redis.xrange(stream, `(${state.lastDeliveredId}`, '+', 'COUNT', COUNT_CAP)).length;
  }
  const oldestIds = [state.oldestPendingId, firstUnread[0]?.[0]].filter((id): id is string => !!id);
  const oldest = oldestIds.length > 0 ? idTime(minId(oldestIds)) : now;
  return { pending: state.pending + unread, oldestPendingSeconds: Math.max(0, (now - oldest) / 1000) };
}

export class LagReporter {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: {
      redis: Redis;
      stream: string;
      group: string;
      intervalMs: number;
      metrics: NotificationMetrics;
      logger: Logger;
    },
  ) {}

  start(): void {
    const report = () =>
      this.report().catch((err: unknown) =>
        this.options.logger.debug({ err }, 'measuring stream lag failed'),
      );
    void report();
    this.timer = setInterval(() => void report(), this.options.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async report(): Promise<StreamLag> {
    const lag = await measureLag(this.options.redis, this.options.stream, this.options.group);
    this.options.metrics.streamPending.set(lag.pending);
    this.options.metrics.streamOldestPendingSeconds.set(lag.oldestPendingSeconds);
    return lag;
  }
}
