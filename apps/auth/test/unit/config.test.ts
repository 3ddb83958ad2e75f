import { ConfigError, loadConfig } from '@chatcluster/kit';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { authConfigSchema, authServiceConfigSchema, keyEncryptionKeys } from '../../src/config.js';

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

  describe('production mode fails closed', () => {
    const kek = `k1:${randomBytes(32).toString('base64')}`;
    const secrets = { INTERNAL_API_TOKEN: 'a-token-of-sixteen-or-more', KEY_ENCRYPTION_KEYS: kek };

    it('refuses NODE_ENV=production without the internal API token or the key-encryption keys', () => {
      const production = { ...required, NODE_ENV: 'production' };
      expect(() => loadConfig(authServiceConfigSchema, production)).to.throw(
        ConfigError,
        /INTERNAL_API_TOKEN: required when NODE_ENV=production; KEY_ENCRYPTION_KEYS: required when NODE_ENV=production/,
      );
      expect(() => loadConfig(authServiceConfigSchema, { ...production, KEY_ENCRYPTION_KEYS: kek })).to.throw(
        ConfigError,
        /^config: INTERNAL_API_TOKEN: required when NODE_ENV=production$/,
      );
      expect(() =>
        loadConfig(authServiceConfigSchema, {
          ...production,
          INTERNAL_API_TOKEN: secrets.INTERNAL_API_TOKEN,
        }),
      ).to.throw(ConfigError, /^config: KEY_ENCRYPTION_KEYS: required when NODE_ENV=production$/);
      expect(loadConfig(authServiceConfigSchema, { ...production, ...secrets }).NODE_ENV).to.equal(
        'production',
      );
    });

    it('lets development run without them', () => {
      const config = loadConfig(authServiceConfigSchema, required);
      expect(config.NODE_ENV).to.equal('development');
      expect(keyEncryptionKeys(config)).to.equal(undefined);
    });
  });

  describe('key-encryption keys', () => {
    const k1 = randomBytes(32).toString('base64');
    const k2 = randomBytes(32).toString('base64');

    it('reads an id:base64 list; the only key, or KEY_ENCRYPTION_KEY_ID, is the active one', () => {
      const one = loadConfig(authServiceConfigSchema, { ...required, KEY_ENCRYPTION_KEYS: `k1:${k1}` });
      expect(keyEncryptionKeys(one)?.activeId).to.equal('k1');
      const two = loadConfig(authServiceConfigSchema, {
        ...required,
        KEY_ENCRYPTION_KEYS: `k1:${k1}, k2:${k2}`,
        KEY_ENCRYPTION_KEY_ID: 'k2',
      });
      expect(keyEncryptionKeys(two)?.activeId).to.equal('k2');
      expect(keyEncryptionKeys(two)?.ids).to.deep.equal(['k1', 'k2']);
    });

    it('refuses bad keys and an active id that is not listed, without printing a key', () => {
      const load = (vars: Record<string, string>) => () =>
        loadConfig(authServiceConfigSchema, { ...required, ...vars });
      const short = randomBytes(16).toString('base64');
      expect(load({ KEY_ENCRYPTION_KEYS: `k1:${short}` })).to.throw(
        ConfigError,
        /KEY_ENCRYPTION_KEYS: key k1: expected 32 bytes, got <redacted>/,
      );
      expect(load({ KEY_ENCRYPTION_KEYS: `k1:${short}` })).to.not.throw(short);
      expect(load({ KEY_ENCRYPTION_KEYS: k1 })).to.throw(ConfigError, /expected id:base64 entries/);
      expect(load({ KEY_ENCRYPTION_KEYS: `k1:${k1},k2:${k2}` })).to.throw(
        ConfigError,
        /KEY_ENCRYPTION_KEY_ID must name the active one/,
      );
      expect(load({ KEY_ENCRYPTION_KEYS: `k1:${k1}`, KEY_ENCRYPTION_KEY_ID: 'k9' })).to.throw(
        ConfigError,
        /the active key k9 is not listed/,
      );
      expect(load({ KEY_ENCRYPTION_KEY_ID: 'k1' })).to.throw(ConfigError, /set without KEY_ENCRYPTION_KEYS/);
    });
  });
});
