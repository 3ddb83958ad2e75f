// The notification service's variables (docs/architecture.md, docs/notification-service.md "Configuration").
// Every delay is a variable so tests can run the same code with short timings.
import { hostname } from 'node:os';
import { env, kitConfigSchema } from '@chatcluster/kit';
import { z } from 'zod';

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

export const notificationConfigSchema = kitConfigSchema.extend({
  PORT: env.port(8083),
  REDIS_URL: env.url({ protocols: ['redis:', 'rediss:'] }),
  /** Auth: channel members (internal API) and the JWKS for the settings API. */
  AUTH_URL: httpUrl(),
  INTERNAL_API_TOKEN: env.string().optional(),
  JWT_ISSUER: env.string(),
  JWT_AUDIENCE: env.string(),
  /** Consumer name in the group; the pod name, so a restarted pod's leftovers are visible in XINFO. */
  INSTANCE_ID: env.string(hostname()),

  FCM_BASE_URL: httpUrl('https://fcm.googleapis.com'),
  FCM_PROJECT_ID: env.string(),
  FCM_ACCESS_TOKEN: env.string(),
  SENDGRID_BASE_URL: httpUrl('https://api.sendgrid.com'),
  SENDGRID_API_KEY: env.string(),
  SENDGRID_FROM_EMAIL: env.string('notifications@chatcluster.invalid'),
  SENDGRID_FROM_NAME: env.string('ChatCluster'),

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
});

export type NotificationConfig = z.output<typeof notificationConfigSchema>;
