// What Redis knows about the consumer groups of a stream: where each group has read up to, how
// many entries it has not acknowledged, the oldest of those, and how many it has not read yet.
import type { Redis } from 'ioredis';

export interface GroupState {
  readonly name: string;
  /** Entries up to this id have been delivered to a consumer. */
  readonly lastDeliveredId: string;
  /** Read but not acknowledged. */
  readonly pending: number;
  readonly oldestPendingId: string | null;
  /** Not read yet; null when Redis cannot tell (after deletions in the range). */
  readonly lag: number | null;
}

function record(flat: unknown[]): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) r[String(flat[i])] = flat[i + 1];
  return r;
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

/** Every group of the stream; empty when the stream does not exist. */
export async function groupStates(redis: Redis, stream: string): Promise<GroupState[]> {
  let groups: unknown[][];
  try {
    groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  } catch (err) {
    if (err instanceof Error && /no such key/i.test(err.message)) return [];
    throw err;
  }
  return Promise.all(
    groups.map(async (flat) => {
      const g = record(flat);
      const name = text(g['name'], '');
      const summary = (await redis.xpending(stream, name)) as [number, string | null, string | null, unknown];
      const lag = g['lag'];
      return {
        name,
        lastDeliveredId: text(g['last-delivered-id'], '0-0'),
        pending: Number(g['pending'] ?? 0),
        oldestPendingId: summary[1] ?? null,
        lag: lag === null || lag === undefined ? null : Number(lag),
      };
    }),
  );
}
