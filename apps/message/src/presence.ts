// The connection registry: `chat:presence:{userId}` -> instance id while the user has a connection
// here, refreshed by a heartbeat and expiring on its own when the instance dies (notification reads it).
import type { Redis } from 'ioredis';
import type { Logger } from '@chatcluster/kit';
import { presenceKey } from './bus/keys.js';
import type { RedisGuard } from './bus/redis-guard.js';

/**
 * `SET KEYS[i] ARGV[1] EX ARGV[2]` for every key: one command for a whole slice of users. A pipeline
 * of one SET per user cost about 4 KB of short-lived objects per user (a command, its arguments and
 * promise each), enough of which outlived a young-generation collection to grow the old space by
 * that much per connection at every arrival burst and refresh.
 */
const setAll = `for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[2]) end return #KEYS`;

/** Deletes the key only if it still names this instance (the user may have moved on). */
const deleteIfOurs = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class Presence {
  readonly #connections = new Map<string, number>();
  /** Users connected in this turn of the event loop, recorded together (a reconnect storm is one write). */
  readonly #arrived = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly guard: RedisGuard,
    private readonly instanceId: string,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    // Refresh at a third of the TTL so one missed beat does not expire anyone.
    this.#timer = setInterval(() => void this.#refreshAll(), (this.ttlSeconds * 1000) / 3);
    this.#timer.unref();
  }

  connected(userId: string): void {
    const n = (this.#connections.get(userId) ?? 0) + 1;
    this.#connections.set(userId, n);
    if (n !== 1) return;
    if (this.#arrived.size === 0) setImmediate(() => void this.#recordArrivals());
    this.#arrived.add(userId);
  }

  disconnected(userId: string): void {
    const n = (this.#connections.get(userId) ?? 1) - 1;
    if (n > 0) {
      this.#connections.set(userId, n);
      return;
    }
    this.#connections.delete(userId);
    // Not recorded yet: nothing to delete, and it must not be recorded after it left.
    if (this.#arrived.delete(userId)) return;
    this.guard
      .run('presence delete', () => this.redis.eval(deleteIfOurs, 1, presenceKey(userId), this.instanceId))
      .catch(() => undefined);
  }

  async #recordArrivals(): Promise<void> {
    const users = [...this.#arrived];
    this.#arrived.clear();
    await this.#record(users, 'presence set');
  }

  #refreshAll(): Promise<void> {
    return this.#record([...this.#connections.keys()], 'presence refresh');
  }

  /** `SET presence EX ttl` for each user, 500 to a script call. */
  async #record(users: readonly string[], operation: string): Promise<void> {
    for (let i = 0; i < users.length; i += 500) {
      const keys = users.slice(i, i + 500).map(presenceKey);
      await this.guard
        .run(operation, () => this.redis.eval(setAll, keys.length, ...keys, this.instanceId, this.ttlSeconds))
        .catch((err: unknown) => this.logger.debug({ err, users: keys.length }, 'presence not recorded'));
    }
  }

  /** At shutdown: remove our entries so notifications go out for users who are now offline. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#arrived.clear();
    const users = [...this.#connections.keys()];
    this.#connections.clear();
    await Promise.allSettled(
      users.map((u) =>
        this.guard.run('presence delete', () =>
          this.redis.eval(deleteIfOurs, 1, presenceKey(u), this.instanceId),
        ),
      ),
    );
  }
}
