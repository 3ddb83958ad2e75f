// What a PostgreSQL backup is checked against: row counts and row digests per table, index
// definitions, sequence values, and sample lookups of the auth schema (users by username, members per
// channel). Measured with fixed output settings so the same rows give the same digest on any server.
import pg from 'pg';
import type { PostgresInventory } from '../manifest.js';

/** Text output of timestamps, floats and bytes depends on these; fix them before digesting. */
export async function fixOutputSettings(client: pg.ClientBase): Promise<void> {
  await client.query(
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex'",
  );
}

const ident = (name: string): string => pg.Client.prototype.escapeIdentifier(name);

async function tableExists(client: pg.ClientBase, table: string): Promise<boolean> {
  const { rows } = await client.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = $1",
    [table],
  );
  return rows[0]?.n === '1';
}

/** Reads the inventory in the client's current transaction (the backup's snapshot, or a restored copy). */
export async function readInventory(client: pg.ClientBase): Promise<PostgresInventory> {
  const tables: PostgresInventory['tables'] = {};
  const { rows: tableRows } = await client.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  for (const { tablename } of tableRows) {
    // Order-independent: the digest of the sorted row digests.
    const { rows } = await client.query<{ rows: string; digest: string }>(
      `SELECT count(*) AS rows, md5(coalesce(string_agg(h, '' ORDER BY h), '')) AS digest
         FROM (SELECT md5(t::text) AS h FROM ${ident(tablename)} t) AS hashed`,
    );
    tables[tablename] = { rows: Number(rows[0]!.rows), digest: rows[0]!.digest };
  }
  const { rows: indexRows } = await client.query<{ indexname: string; indexdef: string }>(
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
  );
  const { rows: sequenceRows } = await client.query<{ sequencename: string; last_value: string | null }>(
    "SELECT sequencename, last_value::text FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename",
  );
  const inventory: PostgresInventory = {
    tables,
    indexes: Object.fromEntries(indexRows.map((r) => [r.indexname, r.indexdef])),
    sequences: Object.fromEntries(sequenceRows.map((r) => [r.sequencename, r.last_value])),
    sampleUsers: [],
    sampleChannels: [],
  };
  if (await tableExists(client, 'users')) {
    // The newest users and the oldest one: both ends of the table.
    const { rows } = await client.query<{ id: string; username: string; email: string }>(
      `(SELECT id::text, username, email FROM users ORDER BY created_at DESC, id LIMIT 5)
       UNION
       (SELECT id::text, username, email FROM users ORDER BY created_at, id LIMIT 1)
       ORDER BY username`,
    );
    inventory.sampleUsers = rows;
  }
  if ((await tableExists(client, 'channels')) && (await tableExists(client, 'memberships'))) {
    const { rows } = await client.query<{ id: string; members: string }>(
      `SELECT c.id::text AS id, count(m.user_id) AS members
         FROM (SELECT id FROM channels ORDER BY created_at DESC, id LIMIT 5) c
         LEFT JOIN memberships m ON m.channel_id = c.id AND m.left_at IS NULL
        GROUP BY c.id ORDER BY c.id`,
    );
    inventory.sampleChannels = rows.map((r) => ({ id: r.id, members: Number(r.members) }));
  }
  return inventory;
}
