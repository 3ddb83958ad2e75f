// Versioned schema migrations (docs/migrations.md): applied at start under an advisory lock, checksummed.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { migrations as allMigrations, type Migration } from './migrations/index.js';

/** Minimal logger shape, so the CLI can pass console-like output and the service its pino logger. */
export interface MigrationLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface MigratorOptions {
  /** PostgreSQL connection string. */
  readonly url: string;
  readonly migrations?: readonly Migration[];
  readonly logger?: MigrationLogger;
  /** How long to wait for another replica's migration run to finish (default 120 s). */
  readonly lockWaitMs?: number;
  /** DDL waiting longer than this for a table lock gives up instead of stalling live traffic (default 10 s). */
  readonly lockTimeoutMs?: number;
}

export interface MigrationState {
  readonly version: number;
  readonly name: string;
  readonly applied: boolean;
  readonly appliedAt: Date | null;
}

const TABLE = 'auth_schema_migrations';
/** Key of the session advisory lock that serialises migration runs across replicas. */
const LOCK_KEY = 'chatcluster:auth:migrations';

function statements(sql: string | readonly string[]): readonly string[] {
  return typeof sql === 'string' ? [sql] : sql;
}

export function checksum(m: Migration): string {
  return createHash('sha256').update(statements(m.up).join('\n;\n')).digest('hex');
}

const silent: MigrationLogger = { info: () => undefined, warn: () => undefined };

/**
 * Applies and reverts the auth schema's migrations. Each run holds a PostgreSQL advisory lock, so
 * replicas starting together apply every migration exactly once; the others wait and then find
 * nothing left to do.
 */
export class Migrator {
  private readonly migrations: readonly Migration[];
  private readonly log: MigrationLogger;

  constructor(private readonly options: MigratorOptions) {
    this.migrations = [...(options.migrations ?? allMigrations)].sort((a, b) => a.version - b.version);
    this.log = options.logger ?? silent;
    const seen = new Set<number>();
    for (const m of this.migrations) {
      if (seen.has(m.version)) throw new Error(`duplicate migration version ${m.version}`);
      seen.add(m.version);
    }
  }

  /** Applies every pending migration, oldest first. Returns the versions applied. */
  async up(): Promise<number[]> {
    return this.withLockedClient(async (client) => {
      const applied = await this.appliedRows(client);
      const known = new Set(this.migrations.map((m) => m.version));
      const unknown = [...applied.keys()].filter((v) => !known.has(v));
      if (unknown.length > 0) {
        // A newer release migrated this database and we are the older one (a rollback). Under
        // expand-then-contract the newer schema still serves this release, so carry on.
        this.log.warn({ versions: unknown }, 'database has migrations this release does not know');
      }
      const done: number[] = [];
      for (const m of this.migrations) {
        const row = applied.get(m.version);
        if (row) {
          if (row.checksum !== checksum(m)) {
            throw new Error(
              `migration ${m.version} (${m.name}) was changed after it was applied; add a new migration instead`,
            );
          }
          continue;
        }
        await this.run(client, m, 'up');
        done.push(m.version);
      }
      return done;
    });
  }

  /** Reverts the `steps` most recently applied migrations (default 1). Returns the versions reverted. */
  async down(steps = 1): Promise<number[]> {
    if (!Number.isInteger(steps) || steps < 1) throw new Error('steps must be a positive integer');
    return this.withLockedClient(async (client) => {
      const applied = await this.appliedRows(client);
      const versions = [...applied.keys()].sort((a, b) => b - a).slice(0, steps);
      const done: number[] = [];
      for (const v of versions) {
        const m = this.migrations.find((x) => x.version === v);
        if (!m) throw new Error(`cannot revert migration ${v}: this release does not know it`);
        await this.run(client, m, 'down');
        done.push(v);
      }
      return done;
    });
  }

  async status(): Promise<MigrationState[]> {
    return this.withLockedClient(async (client) => {
      const applied = await this.appliedRows(client);
      return this.migrations.map((m) => ({
        version: m.version,
        name: m.name,
        applied: applied.has(m.version),
        appliedAt: applied.get(m.version)?.appliedAt ?? null,
      }));
    });
  }

  private async run(client: pg.Client, m: Migration, direction: 'up' | 'down'): Promise<void> {
    const started = Date.now();
    const sql = statements(direction === 'up' ? m.up : m.down);
    const record = async (): Promise<void> => {
      if (direction === 'up') {
        await client.query(`INSERT INTO ${TABLE} (version, name, checksum) VALUES ($1, $2, $3)`, [
          m.version,
          m.name,
          checksum(m),
        ]);
      } else {
        await client.query(`DELETE FROM ${TABLE} WHERE version = $1`, [m.version]);
      }
    };
    if (m.transactional === false) {
      for (const s of sql) await client.query(s);
      await record();
    } else {
      await client.query('BEGIN');
      try {
        for (const s of sql) await client.query(s);
        await record();
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    }
    this.log.info(
      { version: m.version, name: m.name, direction, durationMs: Date.now() - started },
      `migration ${direction}`,
    );
  }

  private async appliedRows(client: pg.Client): Promise<Map<number, { checksum: string; appliedAt: Date }>> {
    const res = await client.query<{ version: number; checksum: string; applied_at: Date }>(
      `SELECT version, checksum, applied_at FROM ${TABLE} ORDER BY version`,
    );
    return new Map(res.rows.map((r) => [r.version, { checksum: r.checksum, appliedAt: r.applied_at }]));
  }

  private async withLockedClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({
      connectionString: this.options.url,
      connectionTimeoutMillis: 10_000,
      application_name: 'chatcluster-auth-migrate',
    });
    client.on('error', () => undefined); // surfaced by the failing query instead
    await client.connect();
    try {
      await client.query(`SET lock_timeout = ${Math.trunc(this.options.lockTimeoutMs ?? 10_000)}`);
      await this.acquireLock(client);
      try {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${TABLE} (
             version    integer PRIMARY KEY,
             name       text NOT NULL,
             checksum   text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
           )`,
        );
        return await fn(client);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [LOCK_KEY]).catch(() => undefined);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async acquireLock(client: pg.Client): Promise<void> {
    const deadline = Date.now() + (this.options.lockWaitMs ?? 120_000);
    let logged = false;
    for (;;) {
      const res = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [
        LOCK_KEY,
      ]);
      if (res.rows[0]?.ok) return;
      if (Date.now() > deadline) throw new Error('timed out waiting for another migration run to finish');
      if (!logged) {
        this.log.info({}, 'another replica is migrating; waiting for it');
        logged = true;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
