import { expect } from 'chai';
import pg from 'pg';
import { Migrator } from '../../src/db/migrator.js';
import { migrations } from '../../src/db/migrations/index.js';
import { sharedPostgres } from './support.js';

async function tables(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const res = await c.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    return res.rows.map((r) => r.table_name);
  } finally {
    await c.end();
  }
}

async function sql<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

describe('auth: migrations', function () {
  let url: string;

  before(async () => {
    url = await (await sharedPostgres()).newDatabase('migrations');
  });

  it('apply up, down and up again on a database with data', async () => {
    const m = new Migrator({ url });
    expect(await m.up()).to.deep.equal([1, 2, 3, 4]);
    expect(await m.up()).to.deep.equal([]); // idempotent

    const [user] = await sql<{ id: string }>(
      url,
      `INSERT INTO users (username, email, display_name, password_hash) VALUES ('keep', 'keep@x.test', 'Keep', 'h') RETURNING id`,
    );
    const [channel] = await sql<{ id: string }>(
      url,
      `INSERT INTO channels (name, visibility, created_by) VALUES ('c', 'public', $1) RETURNING id`,
      [user!.id],
    );
    await sql(url, `INSERT INTO memberships (channel_id, user_id, role) VALUES ($1, $2, 'owner')`, [
      channel!.id,
      user!.id,
    ]);
    await sql(
      url,
      `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES (gen_random_uuid(), $1, '\\x00', now())`,
      [user!.id],
    );

    // reverting the newest migrations keeps the data of the older ones
    expect(await m.down(2)).to.deep.equal([4, 3]);
    expect((await sql(url, 'SELECT 1 FROM memberships')).length).to.equal(1);
    expect(await m.up()).to.deep.equal([3, 4]);
    const idx = await sql(url, `SELECT 1 FROM pg_indexes WHERE indexname = 'memberships_user_active_idx'`);
    expect(idx).to.have.length(1);

    // all the way down with data in every table, then up again
    expect(await m.down(4)).to.deep.equal([4, 3, 2, 1]);
    expect(await tables(url)).to.deep.equal(['auth_schema_migrations']);
    expect(await m.up()).to.deep.equal([1, 2, 3, 4]);
    expect(await tables(url)).to.include.members([
      'users',
      'channels',
      'memberships',
      'refresh_tokens',
      'signing_keys',
    ]);
    const status = await m.status();
    expect(status.every((s) => s.applied)).to.equal(true);
  });

  it('let replicas that start together apply each migration exactly once (advisory lock)', async () => {
    const url2 = await (await sharedPostgres()).newDatabase('migrations_race');
    const results = await Promise.all([1, 2, 3].map(() => new Migrator({ url: url2 }).up()));
    expect(results.flat().sort()).to.deep.equal([1, 2, 3, 4]);
    const rows = await sql<{ n: string }>(url2, 'SELECT count(*) AS n FROM auth_schema_migrations');
    expect(Number(rows[0]!.n)).to.equal(migrations.length);
  });

  it('refuse to start on a migration edited after it was applied', async () => {
    const edited = migrations.map((x) => (x.version === 1 ? { ...x, up: `${String(x.up)}\n-- edited` } : x));
    try {
      await new Migrator({ url, migrations: edited }).up();
      expect.fail('accepted an edited migration');
    } catch (err) {
      expect((err as Error).message).to.match(/migration 1 .* was changed after it was applied/);
    }
  });

  it('let an older release run against a newer schema (rollback under expand-then-contract)', async () => {
    const warnings: string[] = [];
    const older = new Migrator({
      url,
      migrations: migrations.filter((x) => x.version < 3),
      logger: { info: () => undefined, warn: (_o, msg) => warnings.push(msg) },
    });
    expect(await older.up()).to.deep.equal([]);
    expect(warnings).to.have.length(1);
  });
});
