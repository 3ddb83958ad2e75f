// Channel existence and membership, checked on every write and subscribe through auth's cached
// lookup. A short in-process cache of positive answers spares Redis on every send; auth's channel
// events (membership.removed, channel.deleted) evict it at once.
import { AuthUnavailableError, type MembershipAnswer, type MembershipClient } from '@chatcluster/auth-client';
import { msgErrors } from './errors.js';

const localTtlMs = 10_000;

export class Access {
  readonly #deleted = new Set<string>();
  readonly #positive = new Map<string, { answer: MembershipAnswer; until: number }>();
  /** Sweeps the expired answers out while there are any (see #sweep). */
  #sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly memberships: MembershipClient) {}

  markDeleted(channelId: string): void {
    this.#deleted.add(channelId);
    for (const key of this.#positive.keys()) if (key.startsWith(`${channelId}:`)) this.#positive.delete(key);
  }

  isDeleted(channelId: string): boolean {
    return this.#deleted.has(channelId);
  }

  forget(channelId: string, userId: string): void {
    this.#positive.delete(`${channelId}:${userId}`);
  }

  /** The member's answer, or MSG_CHANNEL_NOT_FOUND / MSG_NOT_A_MEMBER / MSG_AUTH_UNAVAILABLE. */
  async requireMember(channelId: string, userId: string): Promise<MembershipAnswer> {
    if (this.#deleted.has(channelId)) throw msgErrors.MSG_CHANNEL_NOT_FOUND('no such channel');
    const key = `${channelId}:${userId}`;
    const hit = this.#positive.get(key);
    if (hit && hit.until > Date.now()) return hit.answer;
    let answer: MembershipAnswer;
    try {
      answer = await this.memberships.lookup(channelId, userId);
    } catch (err) {
      if (err instanceof AuthUnavailableError) {
        throw msgErrors.MSG_AUTH_UNAVAILABLE('membership cannot be checked right now', {
          retryAfterSeconds: 2,
          cause: err,
        });
      }
      throw err;
    }
    if (answer.channel !== 'active') {
      if (answer.channel === 'deleted') this.#deleted.add(channelId);
      throw msgErrors.MSG_CHANNEL_NOT_FOUND('no such channel');
    }
    if (!answer.member) {
      // A private channel is invisible to non-members (as in auth).
      if (answer.visibility === 'private') throw msgErrors.MSG_CHANNEL_NOT_FOUND('no such channel');
      throw msgErrors.MSG_NOT_A_MEMBER('you are not a member of this channel');
    }
    this.#positive.set(key, { answer, until: Date.now() + localTtlMs });
    if (this.#positive.size > 100_000) this.#positive.delete(this.#positive.keys().next().value!);
    if (this.#sweeper === undefined) this.#sweeper = setTimeout(() => this.#sweep(), localTtlMs).unref();
    return answer;
  }

  /**
   * Drops the expired answers, once per TTL while there are any. Every subscribe leaves one, and
   * nothing else would remove it on a connection that stays idle (about 200 bytes each).
   */
  #sweep(): void {
    this.#sweeper = undefined;
    const now = Date.now();
    for (const [key, entry] of this.#positive) if (entry.until <= now) this.#positive.delete(key);
    if (this.#positive.size > 0) this.#sweeper = setTimeout(() => this.#sweep(), localTtlMs).unref();
  }
}
