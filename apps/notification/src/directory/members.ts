// Who is in a channel, from auth's internal API (GET /internal/v1/channels/{id}/members), behind an
// interface so the planner does not care where members come from. Lists are kept briefly in
// memory: a busy channel asks auth once per period, not once per message.
import type { ChannelMember, MembershipClient } from '@chatcluster/auth-client';

export interface Member {
  readonly userId: string;
  readonly displayName: string;
  readonly email: string;
}

export interface MemberDirectory {
  /**
   * Active members of the channel; empty for a deleted or unknown channel. Rejects (e.g. with
   * AuthUnavailableError) when auth cannot answer: the entry then waits in the stream.
   */
  members(channelId: string): Promise<readonly Member[]>;
  close(): void;
}

export interface CachedDirectoryOptions {
  readonly ttlMs: number;
  /** Channels kept at most; the oldest entry goes first. */
  readonly maxChannels?: number;
  readonly now?: () => number;
}

/** Members through auth-client's MembershipClient (timeout, breaker, pagination), cached per channel. */
export class AuthMemberDirectory implements MemberDirectory {
  private readonly cache = new Map<string, { at: number; members: readonly Member[] }>();
  private readonly inflight = new Map<string, Promise<readonly Member[]>>();
  private readonly now: () => number;

  constructor(
    private readonly client: Pick<MembershipClient, 'listMembers' | 'close'>,
    private readonly options: CachedDirectoryOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async members(channelId: string): Promise<readonly Member[]> {
    const cached = this.cache.get(channelId);
    if (cached && this.now() - cached.at < this.options.ttlMs) return cached.members;
    let pending = this.inflight.get(channelId);
    if (!pending) {
      pending = this.client
        .listMembers(channelId)
        .then((list: ChannelMember[]) => {
          const members = list.map((m) => ({ userId: m.userId, displayName: m.displayName, email: m.email }));
          this.remember(channelId, members);
          return members;
        })
        .finally(() => this.inflight.delete(channelId));
      this.inflight.set(channelId, pending);
    }
    return pending;
  }

  close(): void {
    this.client.close();
  }

  private remember(channelId: string, members: readonly Member[]): void {
    this.cache.delete(channelId);
    this.cache.set(channelId, { at: this.now(), members });
    const max = this.options.maxChannels ?? 10_000;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value!);
  }
}
