// Trims chat:notify by age (XTRIM MINID) without ever dropping an entry some group has not read or
// not acknowledged: the cut is the oldest of (now - retention, each group's last delivered id, each
// group's oldest pending id). Also trims the dead-letter stream by its own retention.
import type { Logger } from '@chatcluster/kit';
import type { Redis } from 'ioredis';
import { groupStates, type GroupState } from './group-info.js';
import { minId } from './stream-ids.js';

/**
 * The MINID to trim at: entries with smaller ids go. '0-0' (trim nothing) when there is no group,
 * because then nobody has read anything yet.
 */
export function safeTrimId(now: number, retentionMs: number, groups: readonly GroupState[]): string {
  if (groups.length === 0) return '0-0';
  const candidates = [`${Math.max(0, now - retentionMs)}-0`];
  for (const g of groups) {
    candidates.push(g.lastDeliveredId);
    if (g.oldestPendingId) candidates.push(g.oldestPendingId);
  }
  return minId(candidates);
}

export interface TrimmerOptions {
  readonly redis: Redis;
  readonly stream: string;
  readonly retentionMs: number;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Extra work on the same timer (the dead-letter trim). */
  readonly alsoEachRun?: () => Promise<unknown>;
}

export class StreamTrimmer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly options: TrimmerOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.trim()
        .catch((err: unknown) => this.options.logger.warn({ err }, 'trimming chat:notify failed'))
        .finally(() => (this.running = undefined));
    }, this.options.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One trim now; resolves to the number of entries removed from chat:notify. */
  async trim(now = Date.now()): Promise<number> {
    const { redis, stream } = this.options;
    const cut = safeTrimId(now, this.options.retentionMs, await groupStates(redis, stream));
    const removed = cut === '0-0' ? 0 : await redis.xtrim(stream, 'MINID', cut);
    await this.options.alsoEachRun?.();
    if (removed > 0) this.options.logger.info({ removed, cut }, 'trimmed chat:notify');
    return removed;
  }
}
