// Readiness: every dependency check runs in parallel under its own deadline, and the answer names
// the ones that failed. Once shutdown begins, readiness fails at once so load balancers drain us.
import { withTimeout } from './resilience/timeout.js';

/**
 * Rejects when the dependency is not usable. May resolve with a short note on a passing check (e.g.
 * `disabled: not configured`), reported as its `detail`.
 */
export type HealthCheck = (signal: AbortSignal) => Promise<void | string>;

export interface ReadinessCheck {
  name: string;
  check: HealthCheck;
  timeoutMs: number;
}

export interface CheckResult {
  ok: boolean;
  error?: string;
  /** The note a passing check resolved with. */
  detail?: string;
  durationMs: number;
}

export interface ReadinessReport {
  status: 'ok' | 'unavailable';
  /** Why the service is unavailable as a whole (`shutting down`), beyond its checks. */
  reason?: string;
  checks: Record<string, CheckResult>;
}

export class Health {
  readonly #checks = new Map<string, ReadinessCheck>();
  #shuttingDown = false;

  /** `addCheck(postgresCheck(pool))` or `addCheck('jwks', check, 500)`. */
  addCheck(...args: [check: ReadinessCheck] | [name: string, check: HealthCheck, timeoutMs: number]): this {
    const entry = args.length === 1 ? args[0] : { name: args[0], check: args[1], timeoutMs: args[2] };
    if (this.#checks.has(entry.name))
      throw new TypeError(`readiness check ${entry.name} is already registered`);
    this.#checks.set(entry.name, entry);
    return this;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  markShuttingDown(): void {
    this.#shuttingDown = true;
  }

  async readiness(): Promise<ReadinessReport> {
    if (this.#shuttingDown) return { status: 'unavailable', reason: 'shutting down', checks: {} };
    const results = await Promise.all([...this.#checks.values()].map(runCheck));
    const checks = Object.fromEntries(results);
    const ok = results.every(([, result]) => result.ok);
    return { status: ok ? 'ok' : 'unavailable', checks };
  }
}

async function runCheck({ name, check, timeoutMs }: ReadinessCheck): Promise<[string, CheckResult]> {
  const started = performance.now();
  const durationMs = () => Math.round(performance.now() - started);
  try {
    const detail = await withTimeout(timeoutMs, check, { operation: `${name} check` });
    return [name, { ok: true, ...(typeof detail === 'string' ? { detail } : {}), durationMs: durationMs() }];
  } catch (err) {
    return [
      name,
      { ok: false, error: err instanceof Error ? err.message : String(err), durationMs: durationMs() },
    ];
  }
}

/** The slice of a pg Pool (or Client) the check needs; the kit does not depend on pg. */
export interface PostgresQueryable {
  query(sql: string): Promise<unknown>;
}

export function postgresCheck(pool: PostgresQueryable, timeoutMs = 2000): ReadinessCheck {
  return {
    name: 'postgres',
    timeoutMs,
    check: async () => {
      await pool.query('SELECT 1');
    },
  };
}

/** The slice of an ioredis client the check needs. */
export interface RedisPingable {
  ping(): Promise<unknown>;
}

export function redisCheck(redis: RedisPingable, timeoutMs = 1000): ReadinessCheck {
  return {
    name: 'redis',
    timeoutMs,
    check: async () => {
      const reply = await redis.ping();
      if (reply !== 'PONG') throw new Error(`unexpected PING reply ${JSON.stringify(reply)}`);
    },
  };
}

export interface MongoDbLike {
  command(command: { ping: 1 }): Promise<unknown>;
}

/** A mongoose Connection (`db` is unset until connected) or anything else holding a mongodb Db. */
export interface MongoConnectionLike {
  readonly db?: MongoDbLike | undefined;
}

export function mongoCheck(connection: MongoConnectionLike, timeoutMs = 2000): ReadinessCheck {
  return {
    name: 'mongodb',
    timeoutMs,
    check: async () => {
      if (!connection.db) throw new Error('not connected');
      await connection.db.command({ ping: 1 });
    },
  };
}
