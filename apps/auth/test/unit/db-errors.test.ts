import { expect } from 'chai';
import {
  DatabaseDeadlineError,
  isBrokenConnection,
  isDataException,
  isDatabaseUnavailable,
  uniqueViolation,
} from '../../src/db/errors.js';
import { checksum, Migrator } from '../../src/db/migrator.js';
import { migrations } from '../../src/db/migrations/index.js';

describe('database error classification', () => {
  it('treats connection failures, shutdowns, overload and timeouts as unavailability', () => {
    for (const err of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new DatabaseDeadlineError(7000),
    ]) {
      expect(isDatabaseUnavailable(err), String(err)).to.equal(true);
    }
  });

  it('retries reads only after a broken connection, never after a timeout or overload', () => {
    const broken = [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new Error('Connection terminated unexpectedly'),
    ];
    for (const err of broken) expect(isBrokenConnection(err), String(err)).to.equal(true);
    const notWorthIt = [
      Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
      Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
      Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated due to connection timeout'),
      new Error('Cannot use a pool after calling end on the pool'),
      new DatabaseDeadlineError(7000),
      Object.assign(new Error('duplicate key'), { code: '23505' }),
    ];
    for (const err of notWorthIt) expect(isBrokenConnection(err), String(err)).to.equal(false);
  });

  it('treats answers about the data as the caller’s problem', () => {
    const dup = Object.assign(new Error('duplicate key'), {
      code: '23505',
      constraint: 'users_username_lower_key',
    });
    expect(isDatabaseUnavailable(dup)).to.equal(false);
    expect(uniqueViolation(dup)).to.equal('users_username_lower_key');
    const bad = Object.assign(new Error('invalid input syntax for type uuid'), { code: '22P02' });
    expect(isDatabaseUnavailable(bad)).to.equal(false);
    expect(isDataException(bad)).to.equal(true);
    expect(uniqueViolation(bad)).to.equal(null);
    expect(isDatabaseUnavailable('nope')).to.equal(false);
  });
});

describe('migrations', () => {
  it('are numbered 1..n without gaps, each with an up and a down', () => {
    expect(migrations.map((m) => m.version)).to.deep.equal(migrations.map((_, i) => i + 1));
    for (const m of migrations) {
      expect(m.up.length, `${m.version} up`).to.be.greaterThan(0);
      expect(m.down.length, `${m.version} down`).to.be.greaterThan(0);
    }
  });

  it('list non-transactional statements one by one (PostgreSQL wraps a multi-statement string in a transaction)', () => {
    for (const m of migrations.filter((x) => x.transactional === false)) {
      expect(Array.isArray(m.up) && Array.isArray(m.down), `${m.version}`).to.equal(true);
    }
  });

  it('have stable checksums, and the migrator refuses duplicate versions', () => {
    const first = migrations[0]!;
    expect(checksum(first)).to.equal(checksum({ ...first }));
    expect(checksum(first)).to.not.equal(checksum({ ...first, up: `${String(first.up)} ` }));
    expect(() => new Migrator({ url: 'postgres://unused', migrations: [first, first] })).to.throw(
      /duplicate/,
    );
  });
});
