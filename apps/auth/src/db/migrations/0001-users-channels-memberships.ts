// Migration 1: users, channels (soft delete) and memberships with their version sequence.
import type { Migration } from './types.js';

export const migration0001: Migration = {
  version: 1,
  name: 'users-channels-memberships',
  up: `
    CREATE TABLE users (
      id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      username      text NOT NULL,
      email         text NOT NULL,
      display_name  text NOT NULL,
      password_hash text NOT NULL,
      created_at    timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
    CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

    CREATE TABLE channels (
      id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name        text NOT NULL,
      description text NOT NULL DEFAULT '',
      visibility  text NOT NULL CHECK (visibility IN ('public', 'private')),
      created_by  uuid NOT NULL REFERENCES users (id),
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now(),
      deleted_at  timestamptz,
      deleted_by  uuid REFERENCES users (id),
      deleted_seq bigint
    );
    CREATE INDEX channels_public_listing_idx ON channels (created_at DESC, id DESC)
      WHERE deleted_at IS NULL AND visibility = 'public';
    CREATE INDEX channels_deleted_idx ON channels (deleted_seq) WHERE deleted_at IS NOT NULL;

    -- One counter orders every membership change (and channel deletion), so a cache entry written
    -- from an older read can never overwrite a newer one (see docs/auth-service.md, "Membership cache").
    CREATE SEQUENCE membership_version_seq;

    CREATE TABLE memberships (
      channel_id uuid NOT NULL REFERENCES channels (id),
      user_id    uuid NOT NULL REFERENCES users (id),
      role       text NOT NULL CHECK (role IN ('owner', 'member')),
      joined_at  timestamptz NOT NULL DEFAULT now(),
      left_at    timestamptz,
      version    bigint NOT NULL DEFAULT nextval('membership_version_seq'),
      PRIMARY KEY (channel_id, user_id)
    );
  `,
  down: `
    DROP TABLE IF EXISTS memberships;
    DROP SEQUENCE IF EXISTS membership_version_seq;
    DROP TABLE IF EXISTS channels;
    DROP TABLE IF EXISTS users;
  `,
};
