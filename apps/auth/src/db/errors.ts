/**
 * Tells failures of PostgreSQL itself (down, restarting, overloaded, too slow) from answers about
 * the data (a unique key taken, a value out of range). Only the first kind opens the circuit
 * breaker and becomes `503 DEPENDENCY_UNAVAILABLE`; of those, only a broken connection is worth
 * retrying a read for (a timeout or overload would only be made worse by retries).
 */

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs that mean the server, not the statement, is the problem. */
const SERVER_STATES = new Set([
  '57P01', // admin_shutdown (fast or smart shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
  '57014', // query_canceled: statement_timeout fired
  '55P03', // lock_not_available: lock_timeout fired
  '58000', // system_error
  '58030', // io_error
  '53100', // disk_full
  '53200', // out_of_memory
]);

/** SQLSTATEs of a server going away or not there yet: a fresh connection may well succeed. */
const RESTART_STATES = new Set(['57P01', '57P02', '57P03']);

const MESSAGE_HINTS = [
  'connection terminated',
  'timeout exceeded when trying to connect',
  'connection timeout',
  'client has encountered a connection error',
  'cannot use a pool after calling end',
  'not queryable',
  'server closed the connection',
];

/** Raised when a query outlives its client-side deadline (the server stopped answering). */
export class DatabaseDeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`database call exceeded its ${timeoutMs} ms deadline`);
    this.name = 'DatabaseDeadlineError';
  }
}

function field(err: unknown, key: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[key] : undefined;
}

/** True when the error says PostgreSQL is unreachable, unavailable or too slow. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseDeadlineError) return true;
  const code = field(err, 'code');
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || SERVER_STATES.has(code)) return true;
    if (code.startsWith('08')) return true; // connection_exception class
  }
  const message = field(err, 'message');
  if (typeof message === 'string') {
    const m = message.toLowerCase();
    if (MESSAGE_HINTS.some((h) => m.includes(h))) return true;
  }
  return false;
}

/** True when the connection broke or could not be made (a restart, a failover), not when PostgreSQL was slow. */
export function isBrokenConnection(err: unknown): boolean {
  if (err instanceof DatabaseDeadlineError) return false;
  const code = field(err, 'code');
  if (typeof code === 'string') {
    if (code === 'ETIMEDOUT') return false;
    if (NETWORK_CODES.has(code) || RESTART_STATES.has(code) || code.startsWith('08')) return true;
    if (SERVER_STATES.has(code)) return false;
  }
  const message = field(err, 'message');
  if (typeof message !== 'string') return false;
  const m = message.toLowerCase();
  if (m.includes('timeout') || m.includes('after calling end')) return false;
  return MESSAGE_HINTS.some((h) => m.includes(h));
}

/** The constraint name when err is a unique violation (23505), else null. */
export function uniqueViolation(err: unknown): string | null {
  if (field(err, 'code') !== '23505') return null;
  const constraint = field(err, 'constraint');
  return typeof constraint === 'string' ? constraint : '';
}

/** True for an invalid input PostgreSQL refused (bad uuid text, value too long, ...): class 22. */
export function isDataException(err: unknown): boolean {
  const code = field(err, 'code');
  return typeof code === 'string' && code.startsWith('22');
}
