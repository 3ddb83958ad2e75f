// Readiness: every dependency check runs in parallel under its own deadline, and the answer names
// the ones that failed. Dependency checks gate readiness only until the instance was first ready: a
// shared dependency going down fails every replica's check at once, and draining them all would turn
// a partial outage (answered with clean 503s) into a total one. After that a failing check makes
// readiness `degraded` (still 200) unless the check is `critical`. Once shutdown begins, readiness
// fails at once so load balancers drain us.
import type { Gauge } from 'prom-client';
import type { Metrics } from './metrics.js';
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
  /**
   * Fails readiness whenever it fails, not only before the first ready answer: for a dependency
   * without which the replica cannot answer anything useful, not even a clean error.
   */
  critical?: boolean;
}

export interface CheckResult {
  ok: boolean;
  error?: string;
  /** The note a passing check resolved with. */
  detail?: string;
  durationMs: number;
}

/**
 * `ok`: every check passes. `degraded`: ready before, now some non-critical check fails; still in
 * rotation (HTTP 200). `unavailable`: not ready (HTTP 503): a check failing before the first ready
 * answer, a critical check failing, or shutting down.
 */
export type ReadinessStatus = 'ok' | 'degraded' | 'unavailable';

export interface ReadinessReport {
  status: ReadinessStatus;
  /** Why the service is unavailable as a whole (`shutting down`), beyond its checks. */
  reason?: string;
  checks: Record<string, CheckResult>;
}

export interface HealthOptions {
  /** Records `<prefix>_readiness_check_ok{check}` (1 passing, 0 failing) on every readiness run. */
  metrics?: Metrics;
}

export class Health {
  readonly #checks = new Map<string, ReadinessCheck>();
  readonly #checkOk: Gauge<'check'> | undefined;
  #shuttingDown = false;
  #beenReady = false;

  constructor(options: HealthOptions = {}) {
    this.#checkOk = options.metrics?.gauge(
      'readiness_check_ok',
      'Whether the readiness check of a dependency passed on its last run (1) or failed (0).',
      ['check'],
    );
  }

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
    const entries = [...this.#checks.values()];
    const results = await Promise.all(entries.map(runCheck));
    for (const [name, result] of results) this.#checkOk?.set({ check: name }, result.ok ? 1 : 0);
    const checks = Object.fromEntries(results);
    const failing = entries.filter(({ name }) => !checks[name]!.ok);
    if (failing.length === 0) {
      this.#beenReady = true;
      return { status: 'ok', checks };
    }
    const unavailable = !this.#beenReady || failing.some((check) => check.critical === true);
    return { status: unavailable ? 'unavailable' : 'degraded', checks };
  }
}

/** What the readiness endpoint answers with: only `unavailable` takes the instance out of rotation. */
export function readinessHttpStatus(report: ReadinessReport): 200 | 503 {
  return report.status === 'unavailable' ? 503 : 200;
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
