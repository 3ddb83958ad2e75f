// SQL for channels: visibility rules, keyset pagination, soft delete. Every query is parameterised.
import type { Sql } from '../db/database.js';

export type Visibility = 'public' | 'private';
export type Role = 'owner' | 'member';

export interface Channel {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly visibility: Visibility;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly deletedAt: Date | null;
}

/** A channel as one user sees it: with that user's role, or null when not a member. */
export interface ChannelForUser extends Channel {
  readonly myRole: Role | null;
}

interface ChannelRow {
  id: string;
  name: string;
  description: string;
  visibility: Visibility;
  created_by: string;
  created_at: Date;
  deleted_at: Date | null;
  my_role?: Role | null;
}

const COLUMNS = 'c.id, c.name, c.description, c.visibility, c.created_by, c.created_at, c.deleted_at';

function toChannel(r: ChannelRow): ChannelForUser {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    visibility: r.visibility,
    createdBy: r.created_by,
    createdAt: r.created_at,
    deletedAt: r.deleted_at,
    myRole: r.my_role ?? null,
  };
}

/** Keyset position in the (created_at DESC, id DESC) order of channel listings. */
export interface ChannelCursor {
  readonly createdAt: Date;
  readonly id: string;
}

export async function createChannel(
  sql: Sql,
  input: { name: string; description: string; visibility: Visibility; createdBy: string },
): Promise<Channel> {
  const res = await sql.query<ChannelRow>(
    `INSERT INTO channels AS c (name, description, visibility, created_by) VALUES ($1, $2, $3, $4)
     RETURNING ${COLUMNS}`,
    [input.name, input.description, input.visibility, input.createdBy],
  );
  return toChannel(res.rows[0]!);
}

/** The channel, deleted or not, with `userId`'s active role; `lock` takes a row lock for a write. */
export async function getChannel(
  sql: Sql,
  id: string,
  userId: string | null,
  lock = false,
): Promise<ChannelForUser | null> {
  const res = await sql.query<ChannelRow>(
    `SELECT ${COLUMNS}, m.role AS my_role
       FROM channels c
       LEFT JOIN memberships m ON m.channel_id = c.id AND m.user_id = $2 AND m.left_at IS NULL
      WHERE c.id = $1
      ${lock ? 'FOR UPDATE OF c' : ''}`,
    [id, userId],
  );
  return res.rows[0] ? toChannel(res.rows[0]) : null;
}

/** Channels `userId` may see: every public one and the private ones they belong to. */
export async function listVisibleChannels(
  sql: Sql,
  userId: string,
  limit: number,
  after: ChannelCursor | null,
): Promise<ChannelForUser[]> {
  const res = await sql.query<ChannelRow>(
    `SELECT ${COLUMNS}, m.role AS my_role
       FROM channels c
       LEFT JOIN memberships m ON m.channel_id = c.id AND m.user_id = $1 AND m.left_at IS NULL
      WHERE c.deleted_at IS NULL
        AND (c.visibility = 'public' OR m.user_id IS NOT NULL)
        AND ($2::timestamptz IS NULL OR (c.created_at, c.id) < ($2::timestamptz, $3::uuid))
      ORDER BY c.created_at DESC, c.id DESC
      LIMIT $4`,
    [userId, after?.createdAt ?? null, after?.id ?? null, limit],
  );
  return res.rows.map(toChannel);
}

/** Channels `userId` is an active member of (deleted channels excluded). */
export async function listMyChannels(
  sql: Sql,
  userId: string,
  limit: number,
  after: ChannelCursor | null,
): Promise<ChannelForUser[]> {
  const res = await sql.query<ChannelRow>(
    `SELECT ${COLUMNS}, m.role AS my_role
       FROM memberships m
       JOIN channels c ON c.id = m.channel_id
      WHERE m.user_id = $1 AND m.left_at IS NULL AND c.deleted_at IS NULL
        AND ($2::timestamptz IS NULL OR (c.created_at, c.id) < ($2::timestamptz, $3::uuid))
      ORDER BY c.created_at DESC, c.id DESC
      LIMIT $4`,
    [userId, after?.createdAt ?? null, after?.id ?? null, limit],
  );
  return res.rows.map(toChannel);
}

export interface ChannelDeletion {
  readonly deletedAt: Date;
  /** Position of the deletion in the membership change order (the event's `seq`). */
  readonly seq: number;
  /** Every membership row of the channel, each with its new version. */
  readonly memberships: readonly { userId: string; version: number }[];
}

/**
 * Soft-deletes the channel (rows stay for audit; every read path filters deleted channels) and
 * bumps the version of each of its memberships so cached lookups are superseded. Null when the
 * channel was already deleted.
 */
export async function softDeleteChannel(sql: Sql, id: string, by: string): Promise<ChannelDeletion | null> {
  const res = await sql.query<{ deleted_at: Date; deleted_seq: string }>(
    `UPDATE channels
        SET deleted_at = now(), deleted_by = $2, deleted_seq = nextval('membership_version_seq'), updated_at = now()
      WHERE id = $1 AND deleted_at IS NULL
      RETURNING deleted_at, deleted_seq`,
    [id, by],
  );
  const row = res.rows[0];
  if (!row) return null;
  const members = await sql.query<{ user_id: string; version: string }>(
    `UPDATE memberships SET version = nextval('membership_version_seq')
      WHERE channel_id = $1
      RETURNING user_id, version`,
    [id],
  );
  return {
    deletedAt: row.deleted_at,
    seq: Number(row.deleted_seq),
    memberships: members.rows.map((m) => ({ userId: m.user_id, version: Number(m.version) })),
  };
}

export interface DeletedChannel {
  readonly channelId: string;
  readonly deletedAt: Date;
  readonly seq: number;
}

/** Deleted channels after `afterSeq`, oldest first: lets a consumer that missed events catch up. */
export async function listDeletedChannels(
  sql: Sql,
  afterSeq: number,
  limit: number,
): Promise<DeletedChannel[]> {
  const res = await sql.query<{ id: string; deleted_at: Date; deleted_seq: string }>(
    `SELECT id, deleted_at, deleted_seq FROM channels
      WHERE deleted_at IS NOT NULL AND deleted_seq > $1
      ORDER BY deleted_seq
      LIMIT $2`,
    [afterSeq, limit],
  );
  return res.rows.map((r) => ({ channelId: r.id, deletedAt: r.deleted_at, seq: Number(r.deleted_seq) }));
}
