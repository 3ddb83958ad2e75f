// Backup → restore into new, isolated instances → verify, on real PostgreSQL (auth schema from auth's
// migrations) and a real MongoDB-wire server (FerretDB) with message-shaped documents; and proof that
// verification fails when the restored copy lost a row, a document or an index.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import {
  createTempDir,
  removeTempDir,
  runCommand,
  startFerretDB,
  startPostgres,
  type FerretDBServer,
  type PostgresServer,
} from '@chatcluster/harness';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { backup, restore, verify, type Targets } from '../src/operations.js';
import { migrateAuth, seedAuth, seedMessages } from './fixtures.js';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

async function sql<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

describe('backup and restore (real PostgreSQL and FerretDB)', function () {
  this.timeout(180_000);
  let sourcePg: PostgresServer;
  let sourceMongo: FerretDBServer;
  let source: Targets;
  const started: { stop(): Promise<void> }[] = [];
  const dirs: string[] = [];

  /** A fresh, isolated pair of instances to restore into. */
  async function freshInstances(): Promise<Targets> {
    const [postgres, mongo] = await Promise.all([startPostgres({ database: 'restored' }), startFerretDB()]);
    started.push(postgres, mongo);
    return { postgresUrl: postgres.url, mongoUrl: `${mongo.url}chat` };
  }
  function tempDir(label: string): string {
    const dir = createTempDir(label);
    dirs.push(dir);
    return `${dir}/backup`;
  }

  before(async () => {
    [sourcePg, sourceMongo] = await Promise.all([startPostgres(), startFerretDB()]);
    source = { postgresUrl: sourcePg.url, mongoUrl: `${sourceMongo.url}chat` };
    await migrateAuth(sourcePg.url);
    await seedAuth(sourcePg.url);
    await seedMessages(source.mongoUrl!);
  });

  after(async () => {
    await Promise.all(started.map((s) => s.stop()));
    await Promise.all([sourcePg?.stop(), sourceMongo?.stop()]);
    for (const dir of dirs) await removeTempDir(dir);
  });

  it('restores a backup into fresh instances that verify: counts, contents, indexes, sequences, sample queries', async () => {
    const dir = tempDir('backup');
    const manifest = await backup(source, dir);
    expect(manifest.postgres!.inventory.tables).to.include.keys(
      'users',
      'channels',
      'memberships',
      'refresh_tokens',
      'signing_keys',
      'auth_schema_migrations',
    );
    expect(manifest.postgres!.inventory.tables.users!.rows).to.equal(40);
    expect(manifest.mongo!.inventory.collections.messages!.documents).to.equal(120);
    expect(manifest.mongo!.inventory.latestMessages).to.have.length(4);
    expect(manifest.mongo!.inventory.latestMessages.every((m) => m.seq === 30)).to.equal(true);

    const target = await freshInstances();
    await restore(dir, target);
    const result = await verify(dir, target);
    expect(result.ok, result.report).to.equal(true);
    const names = result.checks.map((c) => c.what);
    expect(names).to.include.members([
      'table users: rows',
      'table memberships: content digest',
      'index users_username_lower_key',
      'sequence membership_version_seq: last value at least',
      'user lookup User39',
      'collection messages: documents',
      'collection messages: index channel_seq',
      'collection channel_counters: documents',
    ]);
    expect(names.filter((n) => n.startsWith('channel ') && n.endsWith(': latest message'))).to.have.length(4);
    expect(names.filter((n) => n.startsWith('channel ') && n.endsWith(': members'))).to.have.length(5);
    // The restored schema is the one auth's migrator knows: nothing pending.
    expect(await migrateAuth(target.postgresUrl!, 'status')).to.not.contain('pending');
  });

  it('fails verification when the restored copy lost a row, a document or an index', async () => {
    const dir = tempDir('backup-broken');
    const manifest = await backup(source, dir);
    const target = await freshInstances();
    await restore(dir, target);
    expect((await verify(dir, target)).ok).to.equal(true);

    const [member] = await sql<{ channel_id: string; user_id: string }>(
      target.postgresUrl!,
      "SELECT channel_id, user_id FROM memberships WHERE role = 'member' AND left_at IS NULL ORDER BY channel_id LIMIT 1",
    );
    await sql(target.postgresUrl!, 'DELETE FROM memberships WHERE channel_id = $1 AND user_id = $2', [
      member!.channel_id,
      member!.user_id,
    ]);
    let result = await verify(dir, target);
    expect(result.ok).to.equal(false);
    const failedPg = result.checks.filter((c) => !c.ok).map((c) => c.what);
    expect(failedPg).to.include.members(['table memberships: rows', 'table memberships: content digest']);
    expect(failedPg.every((w) => w.startsWith('table memberships') || w.endsWith(': members'))).to.equal(
      true,
    );
    expect(result.report).to.contain('FAIL postgres table memberships: rows: expected');

    // The newest message of a channel and an index go missing from the restored message store.
    const client = new MongoClient(target.mongoUrl!);
    await client.connect();
    try {
      const latest = manifest.mongo!.inventory.latestMessages[0]!;
      await client
        .db()
        .collection('messages')
        .deleteOne({ _id: latest.id as never });
      await client.db().collection('messages').dropIndex('channel_client_message_id');
      result = await verify(dir, target);
      const failedMongo = result.checks.filter((c) => !c.ok && c.store === 'mongo').map((c) => c.what);
      expect(failedMongo).to.have.members([
        'collection messages: documents',
        'collection messages: content digest',
        'collection messages: index channel_client_message_id',
        `channel ${latest.channelId}: latest message`,
      ]);
    } finally {
      await client.close();
    }
  });

  it('refuses to restore over a database that already holds data', async () => {
    const dir = tempDir('backup-refuse');
    await backup(source, dir);
    let error: unknown;
    try {
      await restore(dir, source);
    } catch (err) {
      error = err;
    }
    expect((error as Error | undefined)?.message).to.match(
      /^refusing to restore: the target database already has \d+ tables/,
    );
  });

  it('takes a consistent PostgreSQL backup while auth keeps writing (one snapshot for dump and manifest)', async () => {
    let writing = true;
    let inserted = 0;
    const writer = (async () => {
      const client = new pg.Client({ connectionString: sourcePg.url });
      await client.connect();
      try {
        while (writing) {
          await client.query(
            `INSERT INTO users (username, email, display_name, password_hash) VALUES ($1, $1 || '@example.test', 'w', 'x')`,
            [`writer${inserted}`],
          );
          inserted++;
        }
      } finally {
        await client.end();
      }
    })();
    const dir = tempDir('backup-live');
    let manifest;
    try {
      manifest = await backup(source, dir);
    } finally {
      writing = false;
      await writer;
    }
    expect(inserted, 'the writer ran during the backup').to.be.greaterThan(0);
    const [{ n }] = (await sql<{ n: string }>(sourcePg.url, 'SELECT count(*) AS n FROM users')) as [
      { n: string },
    ];
    expect(Number(n)).to.be.greaterThan(manifest.postgres!.inventory.tables.users!.rows);
    const target = await freshInstances();
    await restore(dir, target);
    const result = await verify(dir, target);
    expect(result.ok, result.report).to.equal(true);
  });

  it('runs a whole drill from the command line: backup, isolated instances, restore, verify', async () => {
    const dir = tempDir('drill');
    const result = await runCommand(
      process.execPath,
      [cli, 'drill', '--out', dir, '--postgres-url', sourcePg.url, '--mongo-url', source.mongoUrl!],
      { timeoutMs: 120_000 },
    );
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/^(\d+)\/\1 checks passed$/m);
    expect(result.stdout).to.contain('ok   mongo    collection messages: documents');
  });
});
