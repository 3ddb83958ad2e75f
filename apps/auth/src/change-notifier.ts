// Tells the rest of the platform about committed membership changes and channel deletions, through Redis.
import { writeMembershipCache, type CacheRedis, type MembershipAnswer } from '@chatcluster/auth-client';

/** Pub/Sub channel of channel and membership events (docs/architecture.md). */
export const CHANNEL_EVENTS = 'chat:channel-events';
/**
 * Stream of the revocations among them (membership.removed, channel.deleted): a message instance
 * whose subscriber missed the Pub/Sub message reads them from where it left off.
 */
export const REVOCATIONS_STREAM = 'chat:revocations';
/** Entries older than this are trimmed: longer than an access token, and so a connection, lives. */
export const revocationRetentionMs = 3_600_000;

export type ChannelEvent =
  | { type: 'channel.deleted'; channelId: string; seq: number; deletedAt: string }
  | {
      type: 'membership.added' | 'membership.removed' | 'membership.changed';
      channelId: string;
      userId: string;
      role: 'owner' | 'member' | null;
      seq: number;
    };

export interface NotifierRedis extends CacheRedis {
  publish(channel: string, message: string): Promise<number>;
  xadd(key: string, ...args: (string | number)[]): Promise<string | null>;
}

export interface ChangeNotifierOptions {
  /** Delays between retries of a failed cache write or publish (default 1, 2, 5, 10, 30, 60, 120 s). */
  readonly retryDelaysMs?: readonly number[];
  readonly onError?: (err: unknown, what: string, attempt: number, willRetry: boolean) => void;
}

interface Pending {
  readonly what: string;
  readonly run: () => Promise<unknown>;
  attempt: number;
  timer: NodeJS.Timeout | null;
}

/**
 * After a membership change commits in PostgreSQL: writes the new answer into the membership cache
 * (versioned, so it supersedes whatever a concurrent lookup fills) and publishes the event. Redis
 * being down must not fail the change, which is already committed: failed steps are retried in the
 * background for a few minutes; past that the cache entry has expired (TTL 300 s) anyway.
 */
export class ChangeNotifier {
  private readonly pending = new Set<Pending>();
  private readonly delays: readonly number[];

  constructor(
    private readonly redis: NotifierRedis,
    private readonly options: ChangeNotifierOptions = {},
  ) {
    this.delays = options.retryDelaysMs ?? [1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000];
  }

  /** The membership now is `answer`; event `type` describes the change. */
  async membershipChanged(
    answer: MembershipAnswer,
    type: 'membership.added' | 'membership.removed' | 'membership.changed',
  ): Promise<void> {
    const event: ChannelEvent = {
      type,
      channelId: answer.channelId,
      userId: answer.userId,
      role: answer.role,
      seq: answer.version,
    };
    await Promise.all([
      this.attempt('membership cache write', () => writeMembershipCache(this.redis, answer)),
      this.attempt('membership event publish', () =>
        this.redis.publish(CHANNEL_EVENTS, JSON.stringify(event)),
      ),
      ...(type === 'membership.removed' ? [this.attempt('revocation append', () => this.revoke(event))] : []),
    ]);
  }

  /** The channel is deleted: tell every message instance and supersede every cached membership. */
  async channelDeleted(
    channelId: string,
    seq: number,
    deletedAt: Date,
    tombstones: readonly MembershipAnswer[],
  ): Promise<void> {
    const event: ChannelEvent = {
      type: 'channel.deleted',
      channelId,
      seq,
      deletedAt: deletedAt.toISOString(),
    };
    await Promise.all([
      this.attempt('channel.deleted publish', () =>
        this.redis.publish(CHANNEL_EVENTS, JSON.stringify(event)),
      ),
      this.attempt('revocation append', () => this.revoke(event)),
      ...tombstones.map((t) =>
        this.attempt('membership cache tombstone', () => writeMembershipCache(this.redis, t)),
      ),
    ]);
  }

  private revoke(event: ChannelEvent): Promise<unknown> {
    const minId = String(Date.now() - revocationRetentionMs);
    return this.redis.xadd(REVOCATIONS_STREAM, 'MINID', '~', minId, '*', 'event', JSON.stringify(event));
  }

  /** Number of steps waiting for a retry. */
  backlog(): number {
    return this.pending.size;
  }

  /** Tries every waiting step once more (at shutdown), then drops the rest. */
  async flush(): Promise<void> {
    const items = [...this.pending];
    this.pending.clear();
    await Promise.all(
      items.map(async (p) => {
        if (p.timer) clearTimeout(p.timer);
        try {
          await p.run();
        } catch (err) {
          this.options.onError?.(err, p.what, p.attempt + 1, false);
        }
      }),
    );
  }

  private async attempt(what: string, run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (err) {
      const item: Pending = { what, run, attempt: 1, timer: null };
      this.options.onError?.(err, what, 1, this.delays.length > 0);
      this.schedule(item);
    }
  }

  private schedule(item: Pending): void {
    const delay = this.delays[item.attempt - 1];
    if (delay === undefined) {
      this.pending.delete(item);
      return;
    }
    this.pending.add(item);
    item.timer = setTimeout(() => {
      item.timer = null;
      Promise.resolve()
        .then(item.run)
        .then(
          () => this.pending.delete(item),
          (err: unknown) => {
            item.attempt += 1;
            this.options.onError?.(err, item.what, item.attempt, this.delays[item.attempt - 1] !== undefined);
            this.schedule(item);
          },
        );
    }, delay);
    item.timer.unref();
  }
}
