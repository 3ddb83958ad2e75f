import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ConfigError, env, kitConfigSchema, loadConfig } from '../../src/index.js';

const authLikeSchema = kitConfigSchema.extend({
  PORT: env.port(8081),
  POSTGRES_URL: env.url({ protocols: ['postgres:', 'postgresql:'] }),
});

function configErrorOf(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('parses typed values and fills the kit defaults', () => {
    const config = loadConfig(authLikeSchema, {
      POSTGRES_URL: 'postgres://db:5432/auth',
      LOG_LEVEL: 'DEBUG',
    });
    expect(config).to.deep.equal({
      PORT: 8081,
      LOG_LEVEL: 'debug',
      SHUTDOWN_TIMEOUT_MS: 30_000,
      BODY_LIMIT: 100 * 1024,
      POSTGRES_URL: 'postgres://db:5432/auth',
    });
  });

  it('names every bad variable and what was expected, on one line', () => {
    const message = configErrorOf(() => loadConfig(authLikeSchema, { PORT: 'abc' }));
    expect(message).to.equal('config: PORT: expected an integer 0-65535, got "abc"; POSTGRES_URL: required');
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig(authLikeSchema, {
      POSTGRES_URL: 'postgresql://db/auth',
      PORT: '',
      FEATURE_FLAGS_FILE: '',
    });
    expect(config.PORT).to.equal(8081);
    expect(config.FEATURE_FLAGS_FILE).to.equal(undefined);
    expect(configErrorOf(() => loadConfig(authLikeSchema, { POSTGRES_URL: '' }))).to.equal(
      'config: POSTGRES_URL: required',
    );
  });

  it('does not print secrets or URL credentials', () => {
    const schema = kitConfigSchema.extend({
      PORT: env.port(1),
      DB_URL: env.url({ protocols: ['postgres:'] }),
      API_TOKEN: env.int(),
    });
    const message = configErrorOf(() =>
      loadConfig(schema, { DB_URL: 'mysql://admin:s3cret@db/x', API_TOKEN: 'tok-s3cret' }),
    );
    expect(message).not.to.include('s3cret');
    expect(message).to.include('DB_URL: expected a postgres:// URL, got "mysql://***@db/x"');
    expect(message).to.include('API_TOKEN: expected an integer, got <redacted>');
  });

  describe('env helpers', () => {
    const parse = <T>(schema: { parse(v: unknown): T }, raw: string | undefined) => schema.parse(raw);

    it('port: integers 0-65535', () => {
      expect(parse(env.port(), '0')).to.equal(0);
      expect(parse(env.port(), '65535')).to.equal(65_535);
      expect(() => parse(env.port(), '65536')).to.throw(/expected an integer 0-65535/);
      expect(() => parse(env.port(), '80.5')).to.throw(/expected an integer/);
    });

    it('int: default and range', () => {
      const pool = env.int(10, { min: 1, max: 100 });
      expect(parse(pool, undefined)).to.equal(10);
      expect(parse(pool, ' 42 ')).to.equal(42);
      expect(() => parse(pool, '0')).to.throw(/expected an integer 1-100/);
      expect(() => parse(env.int(undefined, { min: 30 }), '5')).to.throw(/expected an integer >= 30/);
    });

    it('bool: true/false, 1/0, yes/no', () => {
      expect(['true', 'TRUE', '1', 'yes'].map((v) => parse(env.bool(), v))).to.deep.equal([
        true,
        true,
        true,
        true,
      ]);
      expect(['false', '0', 'No'].map((v) => parse(env.bool(true), v))).to.deep.equal([false, false, false]);
      expect(parse(env.bool(true), undefined)).to.equal(true);
      expect(() => parse(env.bool(), 'maybe')).to.throw(/expected true or false/);
    });

    it('durationMs: integers in ms, or with a unit', () => {
      expect(parse(env.durationMs(), '1500')).to.equal(1500);
      expect(parse(env.durationMs(), '250ms')).to.equal(250);
      expect(parse(env.durationMs(), '30s')).to.equal(30_000);
      expect(parse(env.durationMs(), '2m')).to.equal(120_000);
      expect(parse(env.durationMs(5000), undefined)).to.equal(5000);
      expect(() => parse(env.durationMs(), '-1')).to.throw(/expected a duration/);
    });

    it('byteSize: bytes with express-style units', () => {
      expect(parse(env.byteSize(), '512')).to.equal(512);
      expect(parse(env.byteSize(), '1mb')).to.equal(1024 * 1024);
      expect(parse(env.byteSize('2kb'), undefined)).to.equal(2048);
      expect(() => parse(env.byteSize(), 'lots')).to.throw(/expected a size/);
      expect(() => env.byteSize('huge')).to.throw(/not a size/);
    });

    it('url: absolute, optionally of given protocols', () => {
      expect(parse(env.url(), 'http://auth:8081')).to.equal('http://auth:8081');
      expect(() => parse(env.url(), 'auth:8081')).to.throw(/expected an absolute URL/);
      expect(() => parse(env.url(), '/relative')).to.throw(/expected an absolute URL/);
      expect(() => parse(env.url({ protocols: ['redis:', 'rediss:'] }), 'http://x')).to.throw(
        /expected a redis:\/\/ or rediss:\/\/ URL/,
      );
    });

    it('string and logLevel', () => {
      expect(parse(env.string('fallback'), undefined)).to.equal('fallback');
      expect(parse(env.string().optional(), undefined)).to.equal(undefined);
      expect(parse(env.logLevel(), 'warn')).to.equal('warn');
      expect(parse(env.logLevel(), undefined)).to.equal('info');
      expect(() => parse(env.logLevel(), 'loud')).to.throw(/expected one of fatal, error/);
    });
  });

  describe('exitOnConfigError', function () {
    this.timeout(10_000); // starts a node process per test
    const kit = new URL('../../src/index.js', import.meta.url).href;
    const main = `
      import { exitOnConfigError, loadConfig, kitConfigSchema } from ${JSON.stringify(kit)};
      const config = await exitOnConfigError(() => loadConfig(kitConfigSchema, process.env));
      console.log('started on', config.PORT);
    `;
    const run = (environment: Record<string, string>) =>
      promisify(execFile)(process.execPath, ['--input-type=module', '-e', main], { env: environment }).then(
        (out) => ({ code: 0, ...out }),
        (err: { code: number; stdout: string; stderr: string }) => err,
      );

    it('prints the one line to stderr and exits 1', async () => {
      const result = await run({ PORT: 'abc' });
      expect(result.code).to.equal(1);
      expect(result.stderr).to.equal('config: PORT: expected an integer 0-65535, got "abc"\n');
      expect(result.stdout).to.equal('');
    });

    it('lets a good configuration through', async () => {
      const result = await run({ PORT: '8090' });
      expect(result.code).to.equal(0);
      expect(result.stdout).to.equal('started on 8090\n');
    });
  });
});
