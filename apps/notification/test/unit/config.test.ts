import { loadConfig } from '@chatcluster/kit';
import { expect } from 'chai';
import { notificationConfigSchema } from '../../src/config.js';

const required = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  AUTH_URL: 'http://auth:8081',
  JWT_ISSUER: 'i',
  JWT_AUDIENCE: 'a',
  FCM_PROJECT_ID: 'p',
  FCM_ACCESS_TOKEN: 't',
  SENDGRID_API_KEY: 'k',
};

describe('notification configuration', () => {
  it('defaults to the contract: port 8083, 5 s calls, 20 s total, 3 retries around 1/5/15 s, 24 h retention', () => {
    const config = loadConfig(notificationConfigSchema, required);
    expect(config.PORT).to.equal(8083);
    expect(config.PROVIDER_CALL_TIMEOUT_MS).to.equal(5000);
    expect(config.DELIVERY_TOTAL_TIMEOUT_MS).to.equal(20_000);
    expect(config.PROVIDER_RETRIES).to.equal(3);
    expect(config.RETRY_DELAYS_MS).to.deep.equal([1000, 5000, 15_000]);
    expect(config.BREAKER_CONSECUTIVE_FAILURES).to.equal(5);
    expect(config.BREAKER_ERROR_PERCENT).to.equal(50);
    expect(config.BREAKER_WINDOW_MS).to.equal(30_000);
    expect(config.BREAKER_RESET_MS).to.equal(60_000);
    expect(config.STREAM_RETENTION_MS).to.equal(86_400_000);
    expect([...config.RESEND_UNKNOWN_OUTCOME]).to.deep.equal(['fcm']);
  });

  it('reads delay lists and provider lists, and names bad ones', () => {
    const config = loadConfig(notificationConfigSchema, {
      ...required,
      RETRY_DELAYS_MS: '1s, 250ms,3000',
      RESEND_UNKNOWN_OUTCOME: 'fcm,sendgrid',
    });
    expect(config.RETRY_DELAYS_MS).to.deep.equal([1000, 250, 3000]);
    expect([...config.RESEND_UNKNOWN_OUTCOME]).to.deep.equal(['fcm', 'sendgrid']);
    expect([
      ...loadConfig(notificationConfigSchema, { ...required, RESEND_UNKNOWN_OUTCOME: 'none' })
        .RESEND_UNKNOWN_OUTCOME,
    ]).to.deep.equal([]);
    expect(() => loadConfig(notificationConfigSchema, { ...required, RETRY_DELAYS_MS: 'soon' })).to.throw(
      /RETRY_DELAYS_MS/,
    );
    expect(() =>
      loadConfig(notificationConfigSchema, { ...required, RESEND_UNKNOWN_OUTCOME: 'pigeon' }),
    ).to.throw(/RESEND_UNKNOWN_OUTCOME/);
    expect(() => loadConfig(notificationConfigSchema, { ...required, FCM_ACCESS_TOKEN: undefined })).to.throw(
      /FCM_ACCESS_TOKEN: required/,
    );
  });
});
