// PostgreSQL restore into a fresh, empty database (never over live data: a database that already has
// tables is refused). pg_restore runs in one transaction, so a failed restore leaves nothing behind.
import { join } from 'node:path';
import pg from 'pg';
import { run } from '../exec.js';

export async function assertEmpty(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    );
    if (rows[0]!.n !== '0') {
      throw new Error(
        `refusing to restore: the target database already has ${rows[0]!.n} tables (restore into a fresh one)`,
      );
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function restorePostgres(dir: string, file: string, url: string): Promise<void> {
  await assertEmpty(url);
  await run('pg_restore', [
    '--exit-on-error',
    '--single-transaction',
    '--no-owner',
    '--no-privileges',
    `--dbname=${url}`,
    join(dir, file),
  ]);
}
