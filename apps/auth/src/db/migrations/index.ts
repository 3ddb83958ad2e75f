// The ordered list of migrations the migrator applies.
import { migration0001 } from './0001-users-channels-memberships.js';
import { migration0002 } from './0002-refresh-tokens-signing-keys.js';
import { migration0003 } from './0003-memberships-by-user-index.js';
import { migration0004 } from './0004-signing-keys-sealed.js';
import type { Migration } from './types.js';

export type { Migration } from './types.js';

/** Every migration, oldest first. Append only: never edit one that a release has applied. */
export const migrations: readonly Migration[] = [migration0001, migration0002, migration0003, migration0004];
