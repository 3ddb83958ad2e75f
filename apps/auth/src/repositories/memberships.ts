// SQL for memberships. Every change bumps `version`, which orders cache entries and events.
import type { Sql } from '../db/database.js';
import type { Role } from './channels.js';

export interface Membership {
  readonly channelId: string;
  readonly userId: string;
  readonly role: Role;
  readonly joinedAt: Date;
  /** Null while the user is a member. */
  readonly leftAt: Date | null;
  /** Position in the membership change order; a cache entry with a lower version is stale. */
  readonly version: number;
}

interface MembershipRow {
  channel_id: string;
  user_id: string;
  role: Role;
  joined_at: Date;
  left_at: Date | null;
  version: string;
}

const COLUMNS = 'channel_id, user_id, role, joined_at, left_at, version';

function toMembership(r: MembershipRow): Membership {
  return {
    channelId: r.channel_id,
    userId: r.user_id,
    role: r.role,
    joinedAt: r.joined_at,
    leftAt: r.left_at,
    version: Number(r.version),
  };
}

/** The membership row, current or past, or null when the user never belonged to the channel. */
export async function getMembership(sql: Sql, channelId: string, userId: string): Promise<Membership | null> {
  const res = await sql.query<MembershipRow>(
    `SELECT ${COLUMNS} FROM memberships WHERE channel_id = $1 AND user_id = $2`,
    [channelId, userId],
  );
  return res.rows[0] ? toMembership(res.rows[0]) : null;
}

/** Makes the user an active member with `role` (new, returning, or changing role). */
export async function upsertMembership(
  sql: Sql,
  channelId: string,
  userId: string,
  role: Role,
): Promise<Membership> {
  const res = await sql.query<MembershipRow>(
    `INSERT INTO memberships (channel_id, user_id, role) VALUES ($1, $2, $3)
     ON CONFLICT (channel_id, user_id) DO UPDATE
        SET role = EXCLUDED.role,
            joined_at = CASE WHEN memberships.left_at IS NULL THEN memberships.joined_at ELSE now() END,
            left_at = NULL,
            version = nextval('membership_version_seq')
     RETURNING ${COLUMNS}`,
    [channelId, userId, role],
  );
  return toMembership(res.rows[0]!);
}

/** Ends an active membership; null when the user was not an active member. */
export async function endMembership(sql: Sql, channelId: string, userId: string): Promise<Membership | null> {
  const res = await sql.query<MembershipRow>(
    `UPDATE memberships SET left_at = now(), version = nextval('membership_version_seq')
      WHERE channel_id = $1 AND user_id = $2 AND left_at IS NULL
      RETURNING ${COLUMNS}`,
    [channelId, userId],
  );
  return res.rows[0] ? toMembership(res.rows[0]) : null;
}

export async function countOwners(sql: Sql, channelId: string): Promise<number> {
  const res = await sql.query<{ n: string }>(
    `SELECT count(*) AS n FROM memberships WHERE channel_id = $1 AND role = 'owner' AND left_at IS NULL`,
    [channelId],
  );
  return Number(res.rows[0]?.n ?? 0);
}

export interface Member {
  readonly userId: string;
  readonly username: string;
  readonly displayName: string;
  readonly email: string;
  readonly role: Role;
  readonly joinedAt: Date;
}

/** Active members ordered by user id, after `afterUserId` (keyset pagination). */
export async function listMembers(
  sql: Sql,
  channelId: string,
  limit: number,
  afterUserId: string | null,
): Promise<Member[]> {
  const res = await sql.query<{
    user_id: string;
    username: string;
    display_name: string;
    email: string;
    role: Role;
    joined_at: Date;
  }>(
    `SELECT m.user_id, u.username, u.display_name, u.email, m.role, m.joined_at
       FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.channel_id = $1 AND m.left_at IS NULL AND ($2::uuid IS NULL OR m.user_id > $2::uuid)
      ORDER BY m.user_id
      LIMIT $3`,
    [channelId, afterUserId, limit],
  );
  return res.rows.map((r) => ({
    userId: r.user_id,
    username: r.username,
    displayName: r.display_name,
    email: r.email,
    role: r.role,
    joinedAt: r.joined_at,
  }));
}
