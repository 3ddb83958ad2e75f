/**
 * A versioned schema change. `up` moves the schema forward, `down` undoes exactly that step.
 * Migrations follow expand-then-contract (docs/migrations.md): an `up` only adds what the running
 * release can ignore; removing what the previous release still reads happens in a later migration,
 * once no replica of that release is left.
 */
export interface Migration {
  /** Strictly increasing; the file name carries it as a zero-padded prefix. */
  readonly version: number;
  readonly name: string;
  /** SQL to apply: one string (may hold several statements) or a list run one after another. */
  readonly up: string | readonly string[];
  readonly down: string | readonly string[];
  /**
   * false for statements PostgreSQL refuses inside a transaction (CREATE INDEX CONCURRENTLY).
   * Such a migration lists its statements one by one (PostgreSQL runs a multi-statement string as
   * one implicit transaction) and must be harmless to re-run after a crash (IF [NOT] EXISTS).
   */
  readonly transactional?: boolean;
}
