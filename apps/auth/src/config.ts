// The auth service's configuration: the kit's variables plus its own (docs/auth-service.md, "Configuration").
import { env, kitConfigSchema } from '@chatcluster/kit';
import type { z } from 'zod';

export const authConfigSchema = kitConfigSchema.extend({
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
