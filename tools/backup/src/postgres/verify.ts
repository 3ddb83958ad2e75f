// Verifies a restored PostgreSQL copy against the backup's manifest: every table's row count and row
// digest, every index definition, every sequence value, and the sample lookups (a user by username,
// the members of a channel) that auth itself performs.
import pg from 'pg';
import { check, type Check } from '../checks.js';
import type { PostgresInventory } from '../manifest.js';
import { fixOutputSettings, readInventory } from './inventory.js';

export async function verifyPostgres(expected: PostgresInventory, url: string): Promise<Check[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await fixOutputSettings(client);
    const actual = await readInventory(client);
    const checks: Check[] = [];
    for (const [table, { rows, digest }] of Object.entries(expected.tables)) {
      const got = actual.tables[table];
      checks.push(check('postgres', `table ${table}: rows`, rows, got?.rows ?? 'missing table'));
      checks.push(
        check('postgres', `table ${table}: content digest`, digest, got?.digest ?? 'missing table'),
      );
    }
    for (const [index, definition] of Object.entries(expected.indexes)) {
      checks.push(check('postgres', `index ${index}`, definition, actual.indexes[index] ?? 'missing'));
    }
    for (const [sequence, value] of Object.entries(expected.sequences)) {
      // Sequences are not transactional: pg_dump may read a later value than the snapshot saw, never
      // an earlier one. A lower value would hand out numbers (membership versions) twice.
      const got = actual.sequences[sequence];
      checks.push({
        store: 'postgres',
        what: `sequence ${sequence}: last value at least`,
        expected: String(value),
        actual: got === undefined ? 'missing' : String(got),
        ok: got !== undefined && (value === null || (got !== null && BigInt(got) >= BigInt(value))),
      });
    }
    for (const user of expected.sampleUsers) {
      // The lookup sign-in does: by username, case-insensitively (users_username_lower_key).
      const { rows } = await client.query<{ id: string; email: string }>(
        'SELECT id::text, email FROM users WHERE lower(username) = lower($1)',
        [user.username],
      );
      checks.push(
        check(
          'postgres',
          `user lookup ${user.username}`,
          { id: user.id, email: user.email },
          rows[0] ?? 'not found',
        ),
      );
    }
    for (const channel of expected.sampleChannels) {
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM memberships WHERE channel_id = $1 AND left_at IS NULL',
        [channel.id],
      );
      checks.push(check('postgres', `channel ${channel.id}: members`, channel.members, Number(rows[0]!.n)));
    }
    return checks;
  } finally {
    await client.end().catch(() => undefined);
  }
}
