// SQL for the JWT signing keys every replica shares (see tokens/key-store.ts for the rotation rules
// and tokens/key-encryption.ts for how private keys are sealed at rest).
import type { JWK } from 'jose';
import type { Sql } from '../db/database.js';
import type { SealedKey } from '../tokens/key-encryption.js';

/** A private key as stored: sealed (always, once a key-encryption key is configured) or plaintext. */
export type StoredPrivateKey = { readonly sealed: SealedKey } | { readonly plain: JWK };

export interface SigningKeyRow {
  readonly kid: string;
  readonly alg: string;
  readonly publicJwk: JWK;
  readonly privateKey: StoredPrivateKey;
  readonly activatesAt: Date;
  readonly retiredAt: Date | null;
  readonly publishUntil: Date | null;
}

interface Row {
  kid: string;
  alg: string;
  public_jwk: JWK;
  private_jwk: JWK | null;
  kek_id: string | null;
  wrapped_key: Buffer | null;
  sealed_private_key: Buffer | null;
  activates_at: Date;
  retired_at: Date | null;
  publish_until: Date | null;
}

const COLUMNS = `kid, alg, public_jwk, private_jwk, kek_id, wrapped_key, sealed_private_key,
                 activates_at, retired_at, publish_until`;

function storedPrivateKey(r: Row): StoredPrivateKey {
  // The table's CHECK constraint guarantees exactly one form per row.
  if (r.private_jwk) return { plain: r.private_jwk };
  return {
    sealed: { kekId: r.kek_id!, wrappedKey: r.wrapped_key!, sealedPrivateKey: r.sealed_private_key! },
  };
}

function toKey(r: Row): SigningKeyRow {
  return {
    kid: r.kid,
    alg: r.alg,
    publicJwk: r.public_jwk,
    privateKey: storedPrivateKey(r),
    activatesAt: r.activates_at,
    retiredAt: r.retired_at,
    publishUntil: r.publish_until,
  };
}

/** The columns of the private key: the sealed ones, or the plaintext JWK. */
function privateKeyValues(key: StoredPrivateKey): [JWK | null, string | null, Buffer | null, Buffer | null] {
  if ('plain' in key) return [key.plain, null, null, null];
  return [null, key.sealed.kekId, key.sealed.wrappedKey, key.sealed.sealedPrivateKey];
}

/** Keys to publish: the current one (even before it activates) and retired ones still needed. */
export async function listPublishedKeys(sql: Sql): Promise<SigningKeyRow[]> {
  const res = await sql.query<Row>(
    `SELECT ${COLUMNS}
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
  key: { kid: string; alg: string; publicJwk: JWK; privateKey: StoredPrivateKey },
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
    `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, kek_id, wrapped_key, sealed_private_key, activates_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
    [key.kid, key.alg, key.publicJwk, ...privateKeyValues(key.privateKey), activateInSeconds],
  );
}

/**
 * Every key whose private part is not sealed under `activeKekId` (plaintext, or wrapped by an older
 * key-encryption key), retired ones included: a dump holds those too. Locks the rows it returns.
 */
export async function keysToSeal(sql: Sql, activeKekId: string): Promise<SigningKeyRow[]> {
  const res = await sql.query<Row>(
    `SELECT ${COLUMNS} FROM signing_keys
      WHERE kek_id IS DISTINCT FROM $1
      ORDER BY created_at
        FOR UPDATE`,
    [activeKekId],
  );
  return res.rows.map(toKey);
}

/** Stores the sealed private key and clears any plaintext one. */
export async function storeSealedKey(sql: Sql, kid: string, sealed: SealedKey): Promise<void> {
  await sql.query(
    `UPDATE signing_keys
        SET private_jwk = NULL, kek_id = $2, wrapped_key = $3, sealed_private_key = $4
      WHERE kid = $1`,
    [kid, sealed.kekId, sealed.wrappedKey, sealed.sealedPrivateKey],
  );
}
