// The notification service's variables (docs/architecture.md, docs/notification-service.md "Configuration").
// Every delay is a variable so tests can run the same code with short timings.
import { hostname } from 'node:os';
import { env, kitConfigSchema, requiredInProduction } from '@chatcluster/kit';
import { z } from 'zod';
import type { ProviderName } from './events.js';
import type { FcmOptions } from './providers/fcm.js';
import { parseServiceAccountKey } from './providers/google-oauth.js';
import type { SendGridOptions } from './providers/sendgrid.js';

/** Comma-separated delays such as `1000,5000,15000` (each accepts the duration units of env.durationMs). */
function delayList(fallback: readonly number[]) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return [...fallback];
      const parsed = raw.split(',').map((part) => /^(\d+)(ms|s)?$/.exec(part.trim()));
      if (parsed.some((m) => m === null) || parsed.length === 0) {
        ctx.addIssue({ code: 'custom', message: 'expected delays such as 1000,5000,15000 or 1s,5s,15s' });
        return z.NEVER;
      }
      return parsed.map((m) => Number(m![1]) * (m![2] === 's' ? 1000 : 1));
    });
}

const httpUrl = (fallback?: string) =>
  env.url({ protocols: ['http:', 'https:'], ...(fallback ? { default: fallback } : {}) });

export const notificationConfigSchema = kitConfigSchema
  .extend({
    /** `production` (the images set it) makes INTERNAL_API_TOKEN required. */
    NODE_ENV: env.string('development'),
    PORT: env.port(8083),
    REDIS_URL: env.url({ protocols: ['redis:', 'rediss:'] }),
    /** Auth: channel members (internal API) and the JWKS for the settings API. */
    AUTH_URL: httpUrl(),
    /** Presented to auth's internal API, which refuses every call without it. */
    INTERNAL_API_TOKEN: env.string().optional(),
    JWT_ISSUER: env.string(),
    JWT_AUDIENCE: env.string(),
    /** Consumer name in the group; the pod name, so a restarted pod's leftovers are visible in XINFO. */
    INSTANCE_ID: env.string(hostname()),

    // ---- providers: each is off while none of its variables is set (see providerSettings) ----
    FCM_BASE_URL: httpUrl().optional(),
    FCM_PROJECT_ID: env.string().optional(),
    /** A fixed OAuth token (never refreshed: it dies within the hour); FCM_SERVICE_ACCOUNT_CREDENTIALS in production. */
    FCM_ACCESS_TOKEN: env.string().optional(),
    /** A Google service-account key file (JSON): tokens are fetched with it and refreshed before they expire. */
    FCM_SERVICE_ACCOUNT_CREDENTIALS: env.string().optional(),
    /** The OAuth token endpoint; the key's token_uri by default. */
    FCM_TOKEN_URL: httpUrl().optional(),
    SENDGRID_BASE_URL: httpUrl().optional(),
    SENDGRID_API_KEY: env.string().optional(),
    SENDGRID_FROM_EMAIL: env.string().optional(),
    SENDGRID_FROM_NAME: env.string().optional(),

    // ---- stream ----
    NOTIFY_STREAM: env.string('chat:notify'),
    NOTIFY_GROUP: env.string('notification'),
    NOTIFY_DEAD_STREAM: env.string('chat:notify:dead'),
    /** Entries read per XREADGROUP. */
    READ_BATCH: env.int(50, { min: 1, max: 1000 }),
    READ_BLOCK_MS: env.durationMs(2_000),
    /** Entries processed at once by this instance; reading pauses beyond it. */
    MAX_IN_FLIGHT_ENTRIES: env.int(64, { min: 1 }),
    /** How often this instance retries its own deferred entries and reclaims stale ones of others. */
    RETRY_PASS_INTERVAL_MS: env.durationMs(5_000),
    /** Entries left pending this long by any consumer are taken over with XAUTOCLAIM (> DELIVERY_TOTAL_TIMEOUT_MS). */
    CLAIM_IDLE_MS: env.durationMs(60_000),
    /** Acknowledged entries older than this are trimmed (MINID); unread and pending ones never are. */
    STREAM_RETENTION_MS: env.durationMs(24 * 3_600_000),
    DEAD_LETTER_RETENTION_MS: env.durationMs(14 * 24 * 3_600_000),
    TRIM_INTERVAL_MS: env.durationMs(60_000),
    LAG_INTERVAL_MS: env.durationMs(5_000),
    /** Dedupe records outlive any redelivery of their entry (longer than the longest outage you plan for). */
    DEDUPE_TTL_MS: env.durationMs(48 * 3_600_000),
    /** Channel member lists are reused this long (auth is asked once per channel per period). */
    MEMBERS_CACHE_MS: env.durationMs(30_000),
    AUTH_TIMEOUT_MS: env.durationMs(2_000),

    // ---- provider resilience (per provider) ----
    PROVIDER_CALL_TIMEOUT_MS: env.durationMs(5_000),
    DELIVERY_TOTAL_TIMEOUT_MS: env.durationMs(20_000),
    /** Retries after the first call (3 → up to 4 calls). */
    PROVIDER_RETRIES: env.int(3, { min: 0, max: 10 }),
    /** Wait before retry n; each is jittered by ±RETRY_JITTER. */
    RETRY_DELAYS_MS: delayList([1_000, 5_000, 15_000]),
    RETRY_JITTER: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const value = raw === undefined ? 0.2 : Number(raw);
        if (!Number.isFinite(value) || value < 0 || value > 1) {
          ctx.addIssue({ code: 'custom', message: 'expected a number 0-1' });
          return z.NEVER;
        }
        return value;
      }),
    /** A Retry-After longer than this is not slept in-process: the delivery waits in the stream instead. */
    RETRY_AFTER_MAX_MS: env.durationMs(15_000),
    BREAKER_CONSECUTIVE_FAILURES: env.int(5, { min: 1 }),
    BREAKER_ERROR_PERCENT: env.int(50, { min: 1, max: 100 }),
    BREAKER_VOLUME_THRESHOLD: env.int(20, { min: 1 }),
    BREAKER_WINDOW_MS: env.durationMs(30_000),
    BREAKER_RESET_MS: env.durationMs(60_000),
    /** Tries (each with its retries) before retryable failures dead-letter a delivery. */
    DELIVERY_MAX_TRIES: env.int(3, { min: 1 }),
    /**
     * Providers that get a delivery again when a crash left its call's outcome unknown (push resends
     * collapse on the device); for the others it is dead-lettered as outcome_unknown.
     */
    RESEND_UNKNOWN_OUTCOME: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const names = (raw ?? 'fcm')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const unknown = names.filter((n) => n !== 'fcm' && n !== 'sendgrid' && n !== 'none');
        if (unknown.length > 0) {
          ctx.addIssue({ code: 'custom', message: 'expected a list of fcm, sendgrid (or none)' });
          return z.NEVER;
        }
        return new Set(names.filter((n): n is 'fcm' | 'sendgrid' => n !== 'none'));
      }),
    PROVIDER_MAX_CONCURRENT: env.int(16, { min: 1 }),
    PROVIDER_MAX_QUEUE: env.int(256, { min: 0 }),
    PROVIDER_QUEUE_TIMEOUT_MS: env.durationMs(5_000),
    /** At shutdown, in-flight provider calls may finish this long before they are cut (< SHUTDOWN_TIMEOUT_MS). */
    SHUTDOWN_DRAIN_MS: env.durationMs(10_000),
  })
  .superRefine(
    (config, ctx) => {
      // Without the internal token every member lookup would be refused: fail closed at start.
      requiredInProduction<typeof config>('INTERNAL_API_TOKEN')(config, ctx);
      // Some of a provider's variables without all its credentials is a mistake, not "off": name
      // each missing credential (loadConfig prints `FCM_ACCESS_TOKEN: required`).
      for (const { credentials, settings } of Object.values(providerVariables)) {
        const set = [...credentials, ...settings].filter((name) => config[name] !== undefined);
        if (set.length === 0) continue;
        // A service-account key stands in for a fixed FCM token.
        const missing = credentials.filter(
          (c) =>
            config[c] === undefined &&
            !(c === 'FCM_ACCESS_TOKEN' && config.FCM_SERVICE_ACCOUNT_CREDENTIALS !== undefined),
        );
        for (const name of missing) {
          ctx.addIssue({ code: 'custom', path: [name], message: `required when ${set.join(', ')} is set` });
        }
      }
      if (config.FCM_ACCESS_TOKEN !== undefined && config.FCM_SERVICE_ACCOUNT_CREDENTIALS !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['FCM_SERVICE_ACCOUNT_CREDENTIALS'],
          message: 'set either FCM_ACCESS_TOKEN or FCM_SERVICE_ACCOUNT_CREDENTIALS, not both',
        });
      }
      if (config.FCM_SERVICE_ACCOUNT_CREDENTIALS !== undefined) {
        try {
          parseServiceAccountKey(config.FCM_SERVICE_ACCOUNT_CREDENTIALS);
        } catch (err) {
          ctx.addIssue({
            code: 'custom',
            path: ['FCM_SERVICE_ACCOUNT_CREDENTIALS'],
            message: (err as Error).message,
          });
        }
      }
    },
    // Also when other variables are bad, so one run names every problem.
    { when: () => true },
  );

export type NotificationConfig = z.output<typeof notificationConfigSchema>;

/** The credentials that switch a provider on, and its other settings (which then take defaults). */
const providerVariables = {
  fcm: {
    credentials: ['FCM_PROJECT_ID', 'FCM_ACCESS_TOKEN'],
    settings: ['FCM_BASE_URL', 'FCM_SERVICE_ACCOUNT_CREDENTIALS', 'FCM_TOKEN_URL'],
  },
  sendgrid: {
    credentials: ['SENDGRID_API_KEY'],
    settings: ['SENDGRID_BASE_URL', 'SENDGRID_FROM_EMAIL', 'SENDGRID_FROM_NAME'],
  },
} as const satisfies Record<
  ProviderName,
  { credentials: readonly (keyof NotificationConfig)[]; settings: readonly (keyof NotificationConfig)[] }
>;

/** What starts a provider, or why it is off. */
export type ProviderSetting<T> =
  { readonly enabled: true; readonly options: T } | { readonly enabled: false; readonly reason: string };

export interface ProviderSettings {
  readonly fcm: ProviderSetting<FcmOptions>;
  readonly sendgrid: ProviderSetting<SendGridOptions>;
}

const disabled = (provider: ProviderName) => ({
  enabled: false as const,
  reason: `${providerVariables[provider].credentials.join(' and ')} not set`,
});

/**
 * The providers this configuration enables: one whose credentials are all set (the schema has
 * already refused partial ones), with the defaults of its other settings filled in.
 */
export function providerSettings(config: NotificationConfig): ProviderSettings {
  const { FCM_PROJECT_ID: projectId, FCM_ACCESS_TOKEN: accessToken, SENDGRID_API_KEY: apiKey } = config;
  const keyText = config.FCM_SERVICE_ACCOUNT_CREDENTIALS;
  const baseUrl = config.FCM_BASE_URL ?? 'https://fcm.googleapis.com';
  return {
    fcm:
      projectId === undefined
        ? disabled('fcm')
        : keyText !== undefined
          ? {
              enabled: true,
              options: {
                baseUrl,
                projectId,
                serviceAccount: {
                  key: parseServiceAccountKey(keyText),
                  ...(config.FCM_TOKEN_URL ? { tokenUrl: config.FCM_TOKEN_URL } : {}),
                },
              },
            }
          : accessToken !== undefined
            ? { enabled: true, options: { baseUrl, projectId, accessToken } }
            : disabled('fcm'),
    sendgrid:
      apiKey !== undefined
        ? {
            enabled: true,
            options: {
              baseUrl: config.SENDGRID_BASE_URL ?? 'https://api.sendgrid.com',
              apiKey,
              from: {
                email: config.SENDGRID_FROM_EMAIL ?? 'notifications@chatcluster.invalid',
                name: config.SENDGRID_FROM_NAME ?? 'ChatCluster',
              },
            },
          }
        : disabled('sendgrid'),
  };
}
