// Channels and memberships: the rules of who may see, join, add, remove and delete.
import type { MembershipAnswer } from '@chatcluster/auth-client';
import { kitErrors } from '@chatcluster/kit';
import type { ChangeNotifier } from '../change-notifier.js';
import type { Database, Sql } from '../db/database.js';
import { authErrors } from '../errors.js';
import {
  createChannel,
  getChannel,
  listDeletedChannels,
  listMyChannels,
  listVisibleChannels,
  softDeleteChannel,
  type ChannelCursor,
  type ChannelForUser,
  type DeletedChannel,
  type Role,
  type Visibility,
} from '../repositories/channels.js';
import {
  countOwners,
  endMembership,
  getMembership,
  listMembers,
  upsertMembership,
  type Member,
  type Membership,
} from '../repositories/memberships.js';
import { findUserById } from '../repositories/users.js';

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export function encodeCursor(c: ChannelCursor): string {
  return Buffer.from(`${c.createdAt.toISOString()}|${c.id}`, 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(raw: string | undefined): ChannelCursor | null {
  if (!raw) return null;
  const [at, id] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !UUID.test(id) || Number.isNaN(createdAt.getTime())) {
    throw kitErrors.VALIDATION_FAILED('cursor is not one this API issued');
  }
  return { createdAt, id };
}

function page(rows: ChannelForUser[], limit: number): Page<ChannelForUser> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

/** A change to publish once its transaction has committed. */
type AfterCommit = () => Promise<void>;

/**
 * Channels and memberships. Every rule runs inside one transaction holding the channel's row lock,
 * so concurrent joins, removals and the deletion of the same channel serialise; cache updates and
 * events follow the commit. A private channel is invisible (404) to non-members; a member who is
 * not an owner gets 403 for owner-only actions.
 */
export class ChannelService {
  constructor(
    private readonly db: Database,
    private readonly notifier: ChangeNotifier,
  ) {}

  async create(
    userId: string,
    input: { name: string; description: string; visibility: Visibility },
  ): Promise<ChannelForUser> {
    const { channel, membership } = await this.db.write('channels.create', async (sql) => {
      const created = await createChannel(sql, { ...input, createdBy: userId });
      return { channel: created, membership: await upsertMembership(sql, created.id, userId, 'owner') };
    });
    await this.notifier.membershipChanged(answerFor(channel, membership), 'membership.added');
    return { ...channel, myRole: 'owner' };
  }

  async list(userId: string, limit: number, cursor: string | undefined): Promise<Page<ChannelForUser>> {
    const after = decodeCursor(cursor);
    const rows = await this.db.read('channels.list', (sql) =>
      listVisibleChannels(sql, userId, limit + 1, after),
    );
    return page(rows, limit);
  }

  async mine(userId: string, limit: number, cursor: string | undefined): Promise<Page<ChannelForUser>> {
    const after = decodeCursor(cursor);
    const rows = await this.db.read('channels.mine', (sql) => listMyChannels(sql, userId, limit + 1, after));
    return page(rows, limit);
  }

  async get(userId: string, channelId: string): Promise<ChannelForUser> {
    const channel = await this.db.read('channels.get', (sql) => getChannel(sql, channelId, userId));
    return visibleTo(channel);
  }

  async delete(userId: string, channelId: string): Promise<void> {
    const deletion = await this.db.write('channels.delete', async (sql) => {
      const channel = visibleTo(await getChannel(sql, channelId, userId, true));
      if (channel.myRole !== 'owner') throw kitErrors.FORBIDDEN('only an owner can delete the channel');
      const done = await softDeleteChannel(sql, channelId, userId);
      if (!done) throw authErrors.AUTH_CHANNEL_NOT_FOUND('no such channel');
      return { channel, done };
    });
    const { channel, done } = deletion;
    await this.notifier.channelDeleted(
      channelId,
      done.seq,
      done.deletedAt,
      done.memberships.map((m) => ({
        channelId,
        userId: m.userId,
        member: false,
        role: null,
        channel: 'deleted',
        visibility: channel.visibility,
        version: m.version,
      })),
    );
  }

  async join(userId: string, channelId: string): Promise<Membership> {
    return this.change('memberships.join', async (sql) => {
      const channel = visibleTo(await getChannel(sql, channelId, userId, true));
      if (channel.myRole) return { result: (await getMembership(sql, channelId, userId))! };
      if (channel.visibility === 'private') throw authErrors.AUTH_CHANNEL_NOT_FOUND('no such channel'); // owners add members
      const membership = await upsertMembership(sql, channelId, userId, 'member');
      return { result: membership, after: this.announce(channel, membership, 'membership.added') };
    });
  }

  async leave(userId: string, channelId: string): Promise<void> {
    await this.change('memberships.leave', async (sql) => {
      const channel = visibleTo(await getChannel(sql, channelId, userId, true));
      if (!channel.myRole) return { result: undefined };
      if (channel.myRole === 'owner' && (await countOwners(sql, channelId)) === 1) {
        throw authErrors.AUTH_LAST_OWNER('a channel keeps at least one owner: make another owner first');
      }
      const ended = await endMembership(sql, channelId, userId);
      return {
        result: undefined,
        after: ended ? this.announce(channel, ended, 'membership.removed') : undefined,
      };
    });
  }

  /** Adds a member or changes their role. Private: owners only. Public: any member; roles: owners. */
  async addMember(
    actorId: string,
    channelId: string,
    input: { userId: string; role: Role },
  ): Promise<{ membership: Membership; created: boolean }> {
    return this.change('memberships.add', async (sql) => {
      const channel = visibleTo(await getChannel(sql, channelId, actorId, true));
      const ownerOnly = channel.visibility === 'private' || input.role === 'owner';
      if (!channel.myRole) throw kitErrors.FORBIDDEN('only members can add members to this channel');
      if (ownerOnly && channel.myRole !== 'owner') {
        throw kitErrors.FORBIDDEN(
          channel.visibility === 'private'
            ? 'only an owner can add members to a private channel'
            : 'only an owner can make owners',
        );
      }
      if (!(await findUserById(sql, input.userId))) throw authErrors.AUTH_USER_NOT_FOUND('no such user');
      const existing = await getMembership(sql, channelId, input.userId);
      const active = existing && existing.leftAt === null ? existing : null;
      if (active && active.role === input.role) return { result: { membership: active, created: false } };
      if (active?.role === 'owner' && channel.myRole !== 'owner') {
        throw kitErrors.FORBIDDEN('only an owner can change an owner’s role');
      }
      if (active?.role === 'owner' && (await countOwners(sql, channelId)) === 1)
        throw authErrors.AUTH_LAST_OWNER('a channel keeps at least one owner: make another owner first');
      const membership = await upsertMembership(sql, channelId, input.userId, input.role);
      return {
        result: { membership, created: !active },
        after: this.announce(channel, membership, active ? 'membership.changed' : 'membership.added'),
      };
    });
  }

  /** Removes a member: owners only (removing yourself is leaving). Idempotent. */
  async removeMember(actorId: string, channelId: string, userId: string): Promise<void> {
    if (actorId === userId) return this.leave(actorId, channelId);
    await this.change('memberships.remove', async (sql) => {
      const channel = visibleTo(await getChannel(sql, channelId, actorId, true));
      if (channel.myRole !== 'owner') throw kitErrors.FORBIDDEN('only an owner can remove members');
      const ended = await endMembership(sql, channelId, userId);
      return {
        result: undefined,
        after: ended ? this.announce(channel, ended, 'membership.removed') : undefined,
      };
    });
  }

  async members(
    actorId: string,
    channelId: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ items: Member[]; nextCursor: string | null }> {
    if (cursor !== undefined && !UUID.test(cursor))
      throw kitErrors.VALIDATION_FAILED('cursor is not one this API issued');
    return this.db.read('memberships.list', async (sql) => {
      visibleTo(await getChannel(sql, channelId, actorId));
      const rows = await listMembers(sql, channelId, limit + 1, cursor ?? null);
      const items = rows.slice(0, limit);
      return { items, nextCursor: rows.length > limit ? (items[items.length - 1]?.userId ?? null) : null };
    });
  }

  // ---- internal API (other services) ----

  /** The membership answer the message service caches. */
  async lookup(channelId: string, userId: string): Promise<MembershipAnswer> {
    return this.db.read('memberships.lookup', async (sql) => {
      const channel = await getChannel(sql, channelId, null);
      const m = await getMembership(sql, channelId, userId);
      const version = m?.version ?? 0;
      if (!channel) {
        return {
          channelId,
          userId,
          member: false,
          role: null,
          channel: 'missing',
          visibility: null,
          version,
        };
      }
      const deleted = channel.deletedAt !== null;
      const active = !deleted && m !== null && m.leftAt === null;
      return {
        channelId,
        userId,
        member: active,
        role: active ? m.role : null,
        channel: deleted ? 'deleted' : 'active',
        visibility: channel.visibility,
        version,
      };
    });
  }

  /** All active members for the notification service; null when the channel does not exist. */
  async internalMembers(
    channelId: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<{ channel: 'active' | 'deleted'; members: Member[]; nextCursor: string | null } | null> {
    return this.db.read('memberships.internal_list', async (sql) => {
      const channel = await getChannel(sql, channelId, null);
      if (!channel) return null;
      if (channel.deletedAt) return { channel: 'deleted', members: [], nextCursor: null };
      const rows = await listMembers(sql, channelId, limit + 1, cursor ?? null);
      const members = rows.slice(0, limit);
      return {
        channel: 'active',
        members,
        nextCursor: rows.length > limit ? (members[members.length - 1]?.userId ?? null) : null,
      };
    });
  }

  deletedSince(afterSeq: number, limit: number): Promise<DeletedChannel[]> {
    return this.db.read('channels.deleted', (sql) => listDeletedChannels(sql, afterSeq, limit));
  }

  private async change<T>(
    operation: string,
    fn: (sql: Sql) => Promise<{ result: T; after?: AfterCommit | undefined }>,
  ): Promise<T> {
    const { result, after } = await this.db.write(operation, fn);
    if (after) await after();
    return result;
  }

  private announce(
    channel: ChannelForUser,
    membership: Membership,
    type: 'membership.added' | 'membership.removed' | 'membership.changed',
  ): AfterCommit {
    return () => this.notifier.membershipChanged(answerFor(channel, membership), type);
  }
}

function visibleTo(channel: ChannelForUser | null): ChannelForUser {
  if (!channel || channel.deletedAt !== null) throw authErrors.AUTH_CHANNEL_NOT_FOUND('no such channel');
  if (channel.visibility === 'private' && !channel.myRole)
    throw authErrors.AUTH_CHANNEL_NOT_FOUND('no such channel');
  return channel;
}

function answerFor(channel: { id: string; visibility: Visibility }, m: Membership): MembershipAnswer {
  const active = m.leftAt === null;
  return {
    channelId: channel.id,
    userId: m.userId,
    member: active,
    role: active ? m.role : null,
    channel: 'active',
    visibility: channel.visibility,
    version: m.version,
  };
}
