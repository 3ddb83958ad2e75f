// The auth service's configuration: the kit's variables plus its own (docs/auth-service.md, "Configuration").
import { env, kitConfigSchema, requiredInProduction } from '@chatcluster/kit';
import { z } from 'zod';
import { KeyEncryptionError, KeyEncryptionKeys, parseKeyEncryptionKeys } from './tokens/key-encryption.js';

export const authConfigSchema = kitConfigSchema.extend({
  /** `production` (the images set it) makes INTERNAL_API_TOKEN and KEY_ENCRYPTION_KEYS required. */
  NODE_ENV: env.string('development'),
  PORT: env.port(8081),
  POSTGRES_URL: env.url({ protocols: ['postgres:', 'postgresql:'] }),
  REDIS_URL: env.url({ protocols: ['redis:', 'rediss:'] }),
  JWT_ISSUER: env.string(),
  JWT_AUDIENCE: env.string(),
  ACCESS_TOKEN_TTL_SECONDS: env.int(900, { min: 5, max: 86_400 }),
  REFRESH_TOKEN_TTL_SECONDS: env.int(30 * 86_400, { min: 60 }),
  PG_POOL_MAX: env.int(50, { min: 1, max: 1_000 }),
  PG_READ_TIMEOUT_MS: env.durationMs(5_000),
  PG_WRITE_TIMEOUT_MS: env.durationMs(10_000),
  /** How long the database breaker stays open before it lets one trial call through. */
  PG_BREAKER_RESET_MS: env.durationMs(5_000),
  SIGNING_KEY_ROTATE_AFTER_SECONDS: env.int(30 * 86_400, { min: 0 }),
  SIGNING_KEY_PREPUBLISH_SECONDS: env.int(600, { min: 0 }),
  SIGNING_KEY_RELOAD_MS: env.durationMs(30_000),
  /** Clock difference allowed between replicas and verifiers when a retired key leaves the JWKS. */
  JWT_CLOCK_SKEW_SECONDS: env.int(60, { min: 0 }),
  INTERNAL_API_TOKEN: env
    .string()
    .optional()
    .refine((token) => token === undefined || token.length >= 16, 'expected at least 16 characters'),
  /**
   * Key-encryption keys that seal the private signing keys at rest: `id:base64` (32 bytes each),
   * comma-separated; several during a KEK rotation. Without it keys are stored in plaintext.
   */
  KEY_ENCRYPTION_KEYS: z
    .string()
    .optional()
    .superRefine((raw, ctx) => {
      if (raw === undefined) return;
      try {
        parseKeyEncryptionKeys(raw);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
  /** The id in KEY_ENCRYPTION_KEYS that seals new keys; optional when it lists one key. */
  KEY_ENCRYPTION_KEY_ID: env.string().optional(),
  MIGRATE_ON_START: env.bool(true),
  /** Proxies in front of the service whose X-Forwarded-For is trusted for the client IP (express "trust proxy"). */
  TRUST_PROXY_HOPS: env.int(0, { min: 0, max: 10 }),
  LOGIN_IP_LIMIT: env.int(20, { min: 1 }),
  LOGIN_IP_WINDOW_SECONDS: env.int(60, { min: 1 }),
  LOGIN_ACCOUNT_LIMIT: env.int(10, { min: 1 }),
  LOGIN_ACCOUNT_WINDOW_SECONDS: env.int(900, { min: 1 }),
  SIGNUP_IP_LIMIT: env.int(20, { min: 1 }),
  SIGNUP_IP_WINDOW_SECONDS: env.int(3_600, { min: 1 }),
});

export type AuthConfig = z.output<typeof authConfigSchema>;

/**
 * The service's configuration with the rules that span variables: production fails closed without
 * the internal API token and the key-encryption keys, and the active KEK id must be listed. (The CLI
 * picks single variables from authConfigSchema, which is why these rules live on a separate schema.)
 */
export const authServiceConfigSchema = authConfigSchema.superRefine((config, ctx) => {
  requiredInProduction<AuthConfig>('INTERNAL_API_TOKEN', 'KEY_ENCRYPTION_KEYS')(config, ctx);
  const problem = keyEncryptionProblem(config);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

function keyEncryptionProblem(config: AuthConfig): string | undefined {
  if (config.KEY_ENCRYPTION_KEYS === undefined) {
    return config.KEY_ENCRYPTION_KEY_ID === undefined
      ? undefined
      : 'KEY_ENCRYPTION_KEY_ID: set without KEY_ENCRYPTION_KEYS';
  }
  try {
    keyEncryptionKeys(config);
    return undefined;
  } catch (err) {
    if (err instanceof KeyEncryptionError) return `KEY_ENCRYPTION_KEY_ID: ${err.message}`;
    throw err;
  }
}

/** The configured key-encryption keys, or undefined when none are (development only). */
export function keyEncryptionKeys(
  config: Pick<AuthConfig, 'KEY_ENCRYPTION_KEYS' | 'KEY_ENCRYPTION_KEY_ID'>,
): KeyEncryptionKeys | undefined {
  if (config.KEY_ENCRYPTION_KEYS === undefined) return undefined;
  return KeyEncryptionKeys.fromConfig(config.KEY_ENCRYPTION_KEYS, config.KEY_ENCRYPTION_KEY_ID);
}
