import { expect } from 'chai';
import pg from 'pg';
import { startPostgres } from '../src/index.js';
import type { PostgresServer } from '../src/index.js';
import { expectProcessGone } from './support.js';

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

describe('harness: postgres', function () {
  let server: PostgresServer | undefined;

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });

  it('serves the chatcluster database on loopback', async () => {
    expect(server!.url).to.match(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/chatcluster$/);
    await withClient(server!.url, async (client) => {
      const one = await client.query<{ one: number }>('SELECT 1 AS one');
      expect(one.rows).to.deep.equal([{ one: 1 }]);
      expect((await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db).to.equal(
        'chatcluster',
      );
      await client.query('CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');
      await client.query('INSERT INTO notes (body) VALUES ($1), ($2)', ['first', 'second']);
      const notes = await client.query<{ body: string }>('SELECT body FROM notes ORDER BY id');
      expect(notes.rows.map((row) => row.body)).to.deep.equal(['first', 'second']);
    });
  });

  it('restarts on the same port and keeps its data', async () => {
    const before = server!.pid;
    await server!.restart({ downForMs: 200 });
    expect(server!.pid).to.not.equal(before);
    await expectProcessGone(before, 'the first postmaster');
    const count = await withClient(server!.url, (client) =>
      client.query<{ n: string }>('SELECT count(*) AS n FROM notes'),
    );
    expect(count.rows[0]!.n).to.equal('2');
  });

  it('stops the postmaster and all its backends', async () => {
    const pid = server!.pid;
    await server!.stop();
    server = undefined;
    await expectProcessGone(pid, 'postgres');
  });
});
