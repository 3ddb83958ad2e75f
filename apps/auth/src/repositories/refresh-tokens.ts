// SQL for refresh tokens, stored as SHA-256 hashes and grouped in families (one per login).
import type { Sql } from '../db/database.js';

export interface RefreshTokenRow {
  readonly id: string;
  readonly familyId: string;
  readonly userId: string;
  readonly expiresAt: Date;
  readonly usedAt: Date | null;
  readonly revokedAt: Date | null;
  /** Judged by the database clock, the same for every replica. */
  readonly expired: boolean;
}

export async function insertRefreshToken(
  sql: Sql,
  input: { familyId: string; userId: string; tokenHash: Buffer; ttlSeconds: number },
): Promise<string> {
  const res = await sql.query<{ id: string }>(
    `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(secs => $4))
     RETURNING id`,
    [input.familyId, input.userId, input.tokenHash, input.ttlSeconds],
  );
  return res.rows[0]!.id;
}

/** Finds the token by its hash and locks the row, so two uses of one token are serialised. */
export async function findRefreshTokenForUpdate(
  sql: Sql,
  tokenHash: Buffer,
): Promise<RefreshTokenRow | null> {
  const res = await sql.query<{
    id: string;
    family_id: string;
    user_id: string;
    expires_at: Date;
    used_at: Date | null;
    revoked_at: Date | null;
    expired: boolean;
  }>(
    `SELECT id, family_id, user_id, expires_at, used_at, revoked_at, expires_at <= now() AS expired
       FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
    [tokenHash],
  );
  const r = res.rows[0];
  return r
    ? {
        id: r.id,
        familyId: r.family_id,
        userId: r.user_id,
        expiresAt: r.expires_at,
        usedAt: r.used_at,
        revokedAt: r.revoked_at,
        expired: r.expired,
      }
    : null;
}

export async function markRefreshTokenUsed(sql: Sql, id: string, replacedBy: string): Promise<void> {
  await sql.query(`UPDATE refresh_tokens SET used_at = now(), replaced_by = $2 WHERE id = $1`, [
    id,
    replacedBy,
  ]);
}

/** Revokes every live token of the family; returns how many were revoked. */
export async function revokeFamily(sql: Sql, familyId: string, reason: string): Promise<number> {
  const res = await sql.query(
    `UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = $2
      WHERE family_id = $1 AND revoked_at IS NULL`,
    [familyId, reason],
  );
  return res.rowCount ?? 0;
}

/** Removes tokens expired for longer than `graceSeconds`; returns how many. */
export async function deleteExpiredRefreshTokens(
  sql: Sql,
  graceSeconds: number,
  limit: number,
): Promise<number> {
  const res = await sql.query(
    `DELETE FROM refresh_tokens WHERE id IN (
       SELECT id FROM refresh_tokens WHERE expires_at < now() - make_interval(secs => $1) LIMIT $2)`,
    [graceSeconds, limit],
  );
  return res.rowCount ?? 0;
}
