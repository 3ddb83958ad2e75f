// PostgreSQL access with the service's resilience policy (docs/auth-service.md, "Resilience").
import {
  createBreaker,
  isAppError,
  kitErrors,
  retry,
  storeCallTimer,
  withSpan,
  type Breaker,
  type Metrics,
  type StoreCallTimer,
} from '@chatcluster/kit';
import pg from 'pg';
import {
  DatabaseDeadlineError,
  isBrokenConnection,
  isDataException,
  isDatabaseUnavailable,
} from './errors.js';

/** What a repository needs: one connection (inside a transaction for writes). */
export type Sql = Pick<pg.PoolClient, 'query'>;

export interface DatabaseOptions {
  readonly url: string;
  /** Largest number of connections this replica opens (default 50). */
  readonly poolMax?: number;
  /** statement_timeout of reads (default 5000 ms). */
  readonly readTimeoutMs?: number;
  /** statement_timeout of statements in write transactions (default 10000 ms). */
  readonly writeTimeoutMs?: number;
  /** Longest wait for a connection, new or from the pool (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** How long the breaker stays open before a trial call (default 5000 ms). */
  readonly breakerResetMs?: number;
  /** Tries of an idempotent read whose connection broke, the first included (default 3). */
  readonly readAttempts?: number;
  /** Breaker state and retry counts are exported here. */
  readonly metrics?: Metrics;
  readonly onPoolError?: (err: Error) => void;
  readonly applicationName?: string;
}

/** Grace on top of statement_timeout before the client gives up on a silent server. */
const DEADLINE_GRACE_MS = 2_000;

type Call = () => Promise<unknown>;

/**
 * A bounded pool; statement timeouts (reads 5 s, writes 10 s) and a client-side deadline that
 * discards a connection whose server went silent; the kit breaker `postgres` on every call (only
 * unavailability counts); reads whose connection broke are retried with backoff, writes never.
 * Reconnecting after a PostgreSQL restart needs nothing more: broken connections are discarded and
 * new ones opened on demand, and while PostgreSQL stays down the open breaker spaces the attempts
 * (its reset timeout is the backoff) and callers get 503 DEPENDENCY_UNAVAILABLE with Retry-After.
 */
export class Database {
  readonly pool: pg.Pool;
  private readonly readTimeoutMs: number;
  private readonly writeTimeoutMs: number;
  private readonly breakerResetMs: number;
  private readonly breaker: Breaker<[Call], unknown>;
  private readonly timed: StoreCallTimer;

  constructor(private readonly options: DatabaseOptions) {
    this.timed = storeCallTimer(options.metrics);
    this.readTimeoutMs = options.readTimeoutMs ?? 5_000;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 10_000;
    this.breakerResetMs = options.breakerResetMs ?? 5_000;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax ?? 50,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
      // The session default is the read timeout; write transactions raise it with SET LOCAL.
      statement_timeout: this.readTimeoutMs,
      application_name: options.applicationName ?? 'chatcluster-auth',
      keepAlive: true,
    });
    // An idle connection that PostgreSQL drops (restart, failover) must not crash the process;
    // the pool discards it and opens a new one on the next checkout.
    this.pool.on('error', (err) => options.onPoolError?.(err));
    this.breaker = createBreaker(
      'postgres',
      (call: Call) => call(),
      {
        // Opens on 10 failures in a row, or half of 10+ calls failing within 30 s (the reviews' thresholds).
        consecutiveFailures: 10,
        errorThresholdPercentage: 50,
        volumeThreshold: 10,
        rollingCountTimeout: 30_000,
        resetTimeout: this.breakerResetMs,
        isFailure: isDatabaseUnavailable,
      },
      options.metrics,
    );
  }

  /** An idempotent read: statement_timeout 5 s, breaker, retried with backoff when the connection broke. */
  read<T>(operation: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.observed(operation, () =>
      retry(() => this.guarded(() => this.withClient(this.readTimeoutMs, fn)), {
        idempotent: true,
        attempts: this.options.readAttempts ?? 3,
        baseDelayMs: 100,
        maxDelayMs: 1_000,
        operation,
        retryable: isBrokenConnection,
        metrics: this.options.metrics,
      }),
    );
  }

  /** A write transaction: statement_timeout 10 s, breaker, never retried. */
  write<T>(operation: string, fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.observed(operation, () =>
      this.guarded(() =>
        this.withClient(this.writeTimeoutMs, async (client) => {
          await client.query(`BEGIN; SET LOCAL statement_timeout = ${Math.trunc(this.writeTimeoutMs)}`);
          try {
            const result = await fn(client);
            await client.query('COMMIT');
            return result;
          } catch (err) {
            if (!isDatabaseUnavailable(err)) await client.query('ROLLBACK').catch(() => undefined);
            throw err;
          }
        }),
      ),
    );
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
    await this.pool.end();
  }

  private guarded<T>(fn: () => Promise<T>): Promise<T> {
    return this.breaker.fire(fn) as Promise<T>;
  }

  /** A span per database call, and PostgreSQL's failures in the contract's terms. */
  private async observed<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withSpan(`postgres ${operation}`, () => this.timed(operation, fn), {
        'db.system': 'postgresql',
        'db.operation': operation,
      });
    } catch (err) {
      if (isAppError(err, 'CIRCUIT_OPEN')) {
        throw kitErrors.DEPENDENCY_UNAVAILABLE('PostgreSQL is unavailable', {
          retryAfterSeconds: err.retryAfterSeconds,
          cause: err,
        });
      }
      if (isDatabaseUnavailable(err)) {
        // The breaker may open on this very failure; try again once it could have half-opened.
        throw kitErrors.DEPENDENCY_UNAVAILABLE('PostgreSQL is unavailable', {
          retryAfterSeconds: Math.ceil(this.breakerResetMs / 1000),
          cause: err,
        });
      }
      // Input that slipped past validation but PostgreSQL refused (bad text for a type, too long).
      if (isDataException(err)) throw kitErrors.VALIDATION_FAILED('invalid input', { cause: err });
      throw err;
    }
  }

  private async withClient<T>(timeoutMs: number, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let released = false;
    let timer: NodeJS.Timeout | undefined;
    const release = (destroy?: Error): void => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      client.release(destroy);
    };
    const deadlineMs = timeoutMs + DEADLINE_GRACE_MS;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new DatabaseDeadlineError(deadlineMs);
        release(err); // the connection's server went silent: discard it, never reuse it
        reject(err);
      }, deadlineMs);
    });
    try {
      const result = await Promise.race([fn(client), deadline]);
      release();
      return result;
    } catch (err) {
      release(isDatabaseUnavailable(err) ? (err as Error) : undefined);
      throw err;
    }
  }
}
