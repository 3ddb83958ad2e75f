// Migration 4: private signing keys sealed at rest (envelope encryption, tokens/key-encryption.ts).
import type { Migration } from './types.js';

/**
 * Adds the sealed form of a private key next to the plaintext JWK and allows the plaintext to be
 * NULL; a row holds exactly one of the two. SQL cannot encrypt (the key-encryption key lives in a
 * Secret, not in the database), so the data step follows in the service: at start, under the
 * signing-keys lock, the key store seals every plaintext row and clears its plaintext
 * (KeyStore.start); `migrate-cli rewrap-keys` does the same by hand.
 *
 * `down` cannot decrypt either: it deletes the sealed keys, and the older release creates a fresh
 * key at start (tokens signed by the deleted keys then fail verification and clients refresh).
 */
export const migration0004: Migration = {
  version: 4,
  name: 'signing-keys-sealed',
  up: `
    ALTER TABLE signing_keys
      ADD COLUMN kek_id text,
      ADD COLUMN wrapped_key bytea,
      ADD COLUMN sealed_private_key bytea,
      ALTER COLUMN private_jwk DROP NOT NULL,
      ADD CONSTRAINT signing_keys_private_key_once CHECK (
        (private_jwk IS NULL) = (sealed_private_key IS NOT NULL)
        AND (sealed_private_key IS NULL) = (kek_id IS NULL)
        AND (kek_id IS NULL) = (wrapped_key IS NULL)
      );
  `,
  down: `
    DELETE FROM signing_keys WHERE private_jwk IS NULL;
    ALTER TABLE signing_keys
      DROP CONSTRAINT signing_keys_private_key_once,
      DROP COLUMN kek_id,
      DROP COLUMN wrapped_key,
      DROP COLUMN sealed_private_key,
      ALTER COLUMN private_jwk SET NOT NULL;
  `,
};
