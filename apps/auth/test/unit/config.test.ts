import { ConfigError, loadConfig } from '@chatcluster/kit';
import { expect } from 'chai';
import { authConfigSchema } from '../../src/config.js';

const required = {
  POSTGRES_URL: 'postgres://auth@db:5432/auth',
  REDIS_URL: 'redis://redis:6379',
  JWT_ISSUER: 'https://auth.chat.example',
  JWT_AUDIENCE: 'chatcluster',
};

describe('auth configuration', () => {
  it('defaults to port 8081, a pool of 50 and 5 s / 10 s statement timeouts', () => {
    const config = loadConfig(authConfigSchema, required);
    expect(config).to.include({
      PORT: 8081,
      PG_POOL_MAX: 50,
      PG_READ_TIMEOUT_MS: 5_000,
      PG_WRITE_TIMEOUT_MS: 10_000,
      ACCESS_TOKEN_TTL_SECONDS: 900,
      MIGRATE_ON_START: true,
      TRUST_PROXY_HOPS: 0,
    });
    expect(config.INTERNAL_API_TOKEN).to.equal(undefined);
  });

  it('reads durations with units', () => {
    const config = loadConfig(authConfigSchema, {
      ...required,
      PG_READ_TIMEOUT_MS: '2s',
      SIGNING_KEY_RELOAD_MS: '500ms',
    });
    expect(config.PG_READ_TIMEOUT_MS).to.equal(2_000);
    expect(config.SIGNING_KEY_RELOAD_MS).to.equal(500);
  });

  it('names every bad variable on one line, without showing secrets', () => {
    const load = () =>
      loadConfig(authConfigSchema, {
        ...required,
        POSTGRES_URL: 'localhost:5432',
        JWT_AUDIENCE: undefined,
        INTERNAL_API_TOKEN: 'short-secret',
      });
    expect(load).to.throw(ConfigError, /POSTGRES_URL: expected a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(load).to.throw(ConfigError, /JWT_AUDIENCE: required/);
    expect(load).to.throw(ConfigError, /INTERNAL_API_TOKEN: expected at least 16 characters, got <redacted>/);
    expect(load).to.not.throw(/short-secret/);
  });
});
