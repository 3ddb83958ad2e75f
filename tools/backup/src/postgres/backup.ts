// PostgreSQL backup: pg_dump in custom format (compressed, restorable table by table with
// pg_restore), taken from a snapshot exported by a session that also measures the inventory, so the
// manifest describes exactly the rows in the dump even while auth keeps writing.
import { join } from 'node:path';
import pg from 'pg';
import { run } from '../exec.js';
import type { Manifest } from '../manifest.js';
import { fixOutputSettings, readInventory } from './inventory.js';

export const POSTGRES_DUMP_FILE = 'postgres.dump';

export async function backupPostgres(url: string, dir: string): Promise<NonNullable<Manifest['postgres']>> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const { rows } = await client.query<{ snapshot: string; version: string; database: string }>(
      'SELECT pg_export_snapshot() AS snapshot, current_setting($1) AS version, current_database() AS database',
      ['server_version'],
    );
    const { snapshot, version, database } = rows[0]!;
    // The exported snapshot lives as long as this transaction: dump and measure inside it.
    const dump = run('pg_dump', [
      '--format=custom',
      '--no-owner',
      '--no-privileges',
      `--snapshot=${snapshot}`,
      `--file=${join(dir, POSTGRES_DUMP_FILE)}`,
      `--dbname=${url}`,
    ]);
    await fixOutputSettings(client);
    const inventory = await readInventory(client);
    await dump;
    await client.query('COMMIT');
    return { file: POSTGRES_DUMP_FILE, database, serverVersion: version, inventory };
  } finally {
    await client.end().catch(() => undefined);
  }
}
