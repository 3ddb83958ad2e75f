// SQL for users. Usernames and e-mail addresses are unique case-insensitively (migration 0001).
import type { Sql } from '../db/database.js';

export interface User {
  readonly id: string;
  readonly username: string;
  readonly email: string;
  readonly displayName: string;
  readonly createdAt: Date;
}

export interface UserWithHash extends User {
  readonly passwordHash: string;
}

interface UserRow {
  id: string;
  username: string;
  email: string;
  display_name: string;
  password_hash: string;
  created_at: Date;
}

const COLUMNS = 'id, username, email, display_name, password_hash, created_at';

function toUser(r: UserRow): UserWithHash {
  return {
    id: r.id,
    username: r.username,
    email: r.email,
    displayName: r.display_name,
    createdAt: r.created_at,
    passwordHash: r.password_hash,
  };
}

export function publicUser(u: User): User {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    displayName: u.displayName,
    createdAt: u.createdAt,
  };
}

/** Unique constraints a sign-up can hit, by name (see migration 0001). */
export const USERNAME_TAKEN = 'users_username_lower_key';
export const EMAIL_TAKEN = 'users_email_lower_key';

export async function createUser(
  sql: Sql,
  input: { username: string; email: string; displayName: string; passwordHash: string },
): Promise<User> {
  const res = await sql.query<UserRow>(
    `INSERT INTO users (username, email, display_name, password_hash) VALUES ($1, $2, $3, $4)
     RETURNING ${COLUMNS}`,
    [input.username, input.email, input.displayName, input.passwordHash],
  );
  return publicUser(toUser(res.rows[0]!));
}

export async function findUserByUsername(sql: Sql, username: string): Promise<UserWithHash | null> {
  const res = await sql.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE lower(username) = lower($1)`, [
    username,
  ]);
  return res.rows[0] ? toUser(res.rows[0]) : null;
}

export async function findUserById(sql: Sql, id: string): Promise<User | null> {
  const res = await sql.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
  return res.rows[0] ? publicUser(toUser(res.rows[0])) : null;
}

export async function updatePasswordHash(sql: Sql, id: string, passwordHash: string): Promise<void> {
  await sql.query(`UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, [
    id,
    passwordHash,
  ]);
}
