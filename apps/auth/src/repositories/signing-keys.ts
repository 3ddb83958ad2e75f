// SQL for the JWT signing keys every replica shares (see tokens/key-store.ts for the rotation rules).
import type { JWK } from 'jose';
import type { Sql } from '../db/database.js';

export interface SigningKeyRow {
  readonly kid: string;
  readonly alg: string;
  readonly publicJwk: JWK;
  readonly privateJwk: JWK;
  readonly activatesAt: Date;
  readonly retiredAt: Date | null;
  readonly publishUntil: Date | null;
}

interface Row {
  kid: string;
  alg: string;
  public_jwk: JWK;
  private_jwk: JWK;
  activates_at: Date;
  retired_at: Date | null;
  publish_until: Date | null;
}

function toKey(r: Row): SigningKeyRow {
  return {
    kid: r.kid,
    alg: r.alg,
    publicJwk: r.public_jwk,
    privateJwk: r.private_jwk,
    activatesAt: r.activates_at,
    retiredAt: r.retired_at,
    publishUntil: r.publish_until,
  };
}

/** Keys to publish: the current one (even before it activates) and retired ones still needed. */
export async function listPublishedKeys(sql: Sql): Promise<SigningKeyRow[]> {
  const res = await sql.query<Row>(
    `SELECT kid, alg, public_jwk, private_jwk, activates_at, retired_at, publish_until
       FROM signing_keys
      WHERE retired_at IS NULL OR publish_until > now()
      ORDER BY activates_at DESC`,
  );
  return res.rows.map(toKey);
}

/** Serialises key creation and rotation across replicas for the rest of the transaction. */
export async function lockSigningKeys(sql: Sql): Promise<void> {
  await sql.query(`SELECT pg_advisory_xact_lock(hashtext('chatcluster:auth:signing-keys'))`);
}

/** The key that is not retired, with its age in seconds, or null on a fresh database. */
export async function currentKey(sql: Sql): Promise<{ kid: string; ageSeconds: number } | null> {
  const res = await sql.query<{ kid: string; age: number }>(
    `SELECT kid, extract(epoch FROM now() - created_at)::float8 AS age FROM signing_keys WHERE retired_at IS NULL`,
  );
  const r = res.rows[0];
  return r ? { kid: r.kid, ageSeconds: r.age } : null;
}

/**
 * Retires the current key at `activateInSeconds` from now and inserts `key`, which signs from then
 * on. The retired key stays published `keepPublishedSeconds` after its retirement.
 */
export async function rotateKey(
  sql: Sql,
  key: { kid: string; alg: string; publicJwk: JWK; privateJwk: JWK },
  activateInSeconds: number,
  keepPublishedSeconds: number,
): Promise<void> {
  await sql.query(
    `UPDATE signing_keys
        SET retired_at = now() + make_interval(secs => $1),
            publish_until = now() + make_interval(secs => $1 + $2)
      WHERE retired_at IS NULL`,
    [activateInSeconds, keepPublishedSeconds],
  );
  await sql.query(
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, activates_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
    [key.kid, key.alg, key.publicJwk, key.privateJwk, activateInSeconds],
  );
}
