// The message service fails closed in production: without the internal API token auth would refuse
// every membership check, so the service refuses to start instead of running and failing every send.
import { expect } from 'chai';
import { ConfigError, loadConfig } from '@chatcluster/kit';
import { messageConfigSchema } from '../../src/config.js';

const required = {
  MONGO_URL: 'mongodb://mongo:27017/chat',
  REDIS_URL: 'redis://redis:6379',
  AUTH_URL: 'http://auth:8081',
  JWT_ISSUER: 'https://auth.chat.example',
  JWT_AUDIENCE: 'chatcluster',
};

describe('message configuration', () => {
  it('requires INTERNAL_API_TOKEN when NODE_ENV=production, naming it', () => {
    expect(() => loadConfig(messageConfigSchema, { ...required, NODE_ENV: 'production' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.contains('INTERNAL_API_TOKEN: required when NODE_ENV=production');
  });

  it('starts in production with the token, and without it elsewhere', () => {
    const production = loadConfig(messageConfigSchema, {
      ...required,
      NODE_ENV: 'production',
      INTERNAL_API_TOKEN: 'a-long-internal-token',
    });
    expect(production).to.include({
      NODE_ENV: 'production',
      INTERNAL_API_TOKEN: 'a-long-internal-token',
      PORT: 8082,
    });
    const development = loadConfig(messageConfigSchema, required);
    expect(development.NODE_ENV).to.equal('development');
    expect(development.INTERNAL_API_TOKEN).to.equal(undefined);
  });
});
