// Migration 2: hashed refresh tokens in families, and the shared signing keys.
import type { Migration } from './types.js';

export const migration0002: Migration = {
  version: 2,
  name: 'refresh-tokens-signing-keys',
  up: `
    -- Opaque refresh tokens, stored as SHA-256 of the token. Each use marks the row used and adds
    -- its successor in the same family; presenting a used or revoked token revokes the family.
    CREATE TABLE refresh_tokens (
      id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      family_id      uuid NOT NULL,
      user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      token_hash     bytea NOT NULL UNIQUE,
      created_at     timestamptz NOT NULL DEFAULT now(),
      expires_at     timestamptz NOT NULL,
      used_at        timestamptz,
      replaced_by    uuid,
      revoked_at     timestamptz,
      revoked_reason text
    );
    CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
    CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

    -- JWT signing keys, shared by every replica. A key is published in the JWKS from the moment
    -- it is inserted, signs from activates_at (later than insertion on a rotation, so verifiers
    -- have fetched it first) until retired_at, and stays published until publish_until, when the
    -- last token it signed has expired. At most one key is not retired.
    CREATE TABLE signing_keys (
      kid           text PRIMARY KEY,
      alg           text NOT NULL,
      public_jwk    jsonb NOT NULL,
      private_jwk   jsonb NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now(),
      activates_at  timestamptz NOT NULL DEFAULT now(),
      retired_at    timestamptz,
      publish_until timestamptz
    );
    CREATE UNIQUE INDEX signing_keys_one_current_key ON signing_keys ((true)) WHERE retired_at IS NULL;
  `,
  down: `
    DROP TABLE IF EXISTS signing_keys;
    DROP TABLE IF EXISTS refresh_tokens;
  `,
};
