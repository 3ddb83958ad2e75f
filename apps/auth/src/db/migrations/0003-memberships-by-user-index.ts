// Migration 3: index for "list my channels", built without locking writes.
import type { Migration } from './types.js';

/**
 * "List my channels" reads memberships by user. Built CONCURRENTLY so a large table stays writable
 * while the index is built; that cannot run in a transaction, hence `transactional: false` and the
 * IF [NOT] EXISTS guards that make a re-run after an interrupted build harmless.
 */
export const migration0003: Migration = {
  version: 3,
  name: 'memberships-by-user-index',
  transactional: false,
  up: [
    // An interrupted concurrent build leaves an INVALID index behind: drop it, then build afresh.
    'DROP INDEX CONCURRENTLY IF EXISTS memberships_user_active_idx',
    'CREATE INDEX CONCURRENTLY memberships_user_active_idx ON memberships (user_id) WHERE left_at IS NULL',
  ],
  down: ['DROP INDEX CONCURRENTLY IF EXISTS memberships_user_active_idx'],
};
