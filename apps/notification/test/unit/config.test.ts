import { ConfigError, loadConfig } from '@chatcluster/kit';
import { expect } from 'chai';
import { notificationConfigSchema, providerSettings } from '../../src/config.js';

const required = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  AUTH_URL: 'http://auth:8081',
  JWT_ISSUER: 'i',
  JWT_AUDIENCE: 'a',
};
const fcm = { FCM_PROJECT_ID: 'p', FCM_ACCESS_TOKEN: 'ya29.secret-token' };
const sendgrid = { SENDGRID_API_KEY: 'SG.secret-key' };

/** The one-line ConfigError loadConfig throws for `env`. */
function configError(env: Record<string, string | undefined>): string {
  try {
    loadConfig(notificationConfigSchema, env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('notification configuration', () => {
  it('fails closed in production without the internal API token, and names it', () => {
    expect(configError({ ...required, NODE_ENV: 'production' })).to.contain(
      'INTERNAL_API_TOKEN: required when NODE_ENV=production',
    );
    const config = loadConfig(notificationConfigSchema, {
      ...required,
      NODE_ENV: 'production',
      INTERNAL_API_TOKEN: 'a-long-internal-token',
    });
    expect(config.INTERNAL_API_TOKEN).to.equal('a-long-internal-token');
    expect(loadConfig(notificationConfigSchema, required).INTERNAL_API_TOKEN, 'optional outside production')
      .to.be.undefined;
  });

  it('defaults to the contract: port 8083, 5 s calls, 20 s total, 3 retries around 1/5/15 s, 24 h retention', () => {
    const config = loadConfig(notificationConfigSchema, { ...required, ...fcm, ...sendgrid });
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
  });

  describe('providers', () => {
    it('starts with no provider configured, each off with the variables it lacks', () => {
      const setup = providerSettings(loadConfig(notificationConfigSchema, required));
      expect(setup.fcm).to.deep.equal({
        enabled: false,
        reason: 'FCM_PROJECT_ID and FCM_ACCESS_TOKEN not set',
      });
      expect(setup.sendgrid).to.deep.equal({ enabled: false, reason: 'SENDGRID_API_KEY not set' });
    });

    it('enables a provider by its credentials alone, with the default URL and sender', () => {
      const onlyFcm = providerSettings(loadConfig(notificationConfigSchema, { ...required, ...fcm }));
      expect(onlyFcm.fcm).to.deep.equal({
        enabled: true,
        options: { baseUrl: 'https://fcm.googleapis.com', projectId: 'p', accessToken: 'ya29.secret-token' },
      });
      expect(onlyFcm.sendgrid.enabled).to.equal(false);

      const onlySendGrid = providerSettings(
        loadConfig(notificationConfigSchema, {
          ...required,
          ...sendgrid,
          SENDGRID_BASE_URL: 'http://sink:9000',
          SENDGRID_FROM_NAME: 'Chat',
        }),
      );
      expect(onlySendGrid.fcm.enabled).to.equal(false);
      expect(onlySendGrid.sendgrid).to.deep.equal({
        enabled: true,
        options: {
          baseUrl: 'http://sink:9000',
          apiKey: 'SG.secret-key',
          from: { email: 'notifications@chatcluster.invalid', name: 'Chat' },
        },
      });
    });

    it('refuses partial credentials with one line naming the missing variable', () => {
      expect(configError({ ...required, FCM_PROJECT_ID: 'p' })).to.equal(
        'config: FCM_ACCESS_TOKEN: required',
      );
      expect(configError({ ...required, FCM_ACCESS_TOKEN: 'ya29.secret-token' })).to.equal(
        'config: FCM_PROJECT_ID: required',
      );
      // Empty counts as unset (a Secret key rendered as ""), so it is missing too.
      expect(configError({ ...required, ...fcm, FCM_ACCESS_TOKEN: '' })).to.equal(
        'config: FCM_ACCESS_TOKEN: required',
      );
    });

    it('refuses a provider setting without the credentials, so a typo never silently disables it', () => {
      expect(configError({ ...required, FCM_BASE_URL: 'http://sink:9000' })).to.equal(
        'config: FCM_PROJECT_ID: required; FCM_ACCESS_TOKEN: required',
      );
      expect(configError({ ...required, ...fcm, SENDGRID_FROM_EMAIL: 'n@chat.test' })).to.equal(
        'config: SENDGRID_API_KEY: required',
      );
    });

    it('takes a service-account key instead of a fixed token, refusing both, or a key that is not one', () => {
      const key = {
        client_email: 'n@p.iam.gserviceaccount.com',
        private_key: 'PEM',
        token_uri: 'https://t/token',
      };
      const config = loadConfig(notificationConfigSchema, {
        ...required,
        FCM_PROJECT_ID: 'p',
        FCM_SERVICE_ACCOUNT_CREDENTIALS: JSON.stringify(key),
      });
      expect(providerSettings(config).fcm).to.deep.equal({
        enabled: true,
        options: { baseUrl: 'https://fcm.googleapis.com', projectId: 'p', serviceAccount: { key } },
      });
      expect(
        configError({ ...required, ...fcm, FCM_SERVICE_ACCOUNT_CREDENTIALS: JSON.stringify(key) }),
      ).to.equal(
        'config: FCM_SERVICE_ACCOUNT_CREDENTIALS: set either FCM_ACCESS_TOKEN or FCM_SERVICE_ACCOUNT_CREDENTIALS, not both, got <redacted>',
      );
      const noKey = { client_email: 'n@p.iam.gserviceaccount.com' };
      const message = configError({
        ...required,
        FCM_PROJECT_ID: 'p',
        FCM_SERVICE_ACCOUNT_CREDENTIALS: JSON.stringify(noKey),
      });
      expect(message).to.equal(
        'config: FCM_SERVICE_ACCOUNT_CREDENTIALS: the service-account key has no private_key, got <redacted>',
      );
    });

    it('names a partial provider together with other bad variables, never printing a secret', () => {
      const message = configError({ ...required, PORT: 'eighty', FCM_ACCESS_TOKEN: 'ya29.secret-token' });
      expect(message).to.match(/^config: [^\n]+$/);
      expect(message).to.include('PORT: expected an integer 0-65535, got "eighty"');
      expect(message).to.include('FCM_PROJECT_ID: required');
      expect(message).to.not.include('secret');
    });
  });
});
