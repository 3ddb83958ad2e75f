// The auth service assembled on the kit's createService: PostgreSQL (migrated at start), Redis,
// signing keys, sessions and channels behind the HTTP routes, with readiness checks, metrics and
// the shutdown order (stop timers, flush pending notifications, then close Redis and the pool).
import {
  createService,
  postgresCheck,
  RedisRateLimiter,
  redisCheck,
  type CreateServiceOptions,
  type Logger,
  type Service,
} from '@chatcluster/kit';
import { Redis } from 'ioredis';
import { ChangeNotifier } from './change-notifier.js';
import { authServiceConfigSchema, keyEncryptionKeys, type AuthConfig } from './config.js';
import { Database } from './db/database.js';
import { Migrator } from './db/migrator.js';
import { authRoutes } from './http/routes.js';
import { PasswordHasher } from './passwords.js';
import { ChannelService } from './services/channel-service.js';
import { SessionService } from './services/session-service.js';
import { KeyStore } from './tokens/key-store.js';

export interface StartAuthOptions {
  /** process.env by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly host?: string;
  /** Install SIGTERM/SIGINT handlers (default true; tests pass false). */
  readonly handleSignals?: boolean;
  readonly logDestination?: CreateServiceOptions<AuthConfig>['logDestination'];
}

/** The running service and the parts tests and tools reach into. */
export interface AuthApp {
  readonly service: Service<AuthConfig>;
  readonly db: Database;
  readonly redis: Redis;
  readonly keys: KeyStore;
  readonly sessions: SessionService;
  readonly channels: ChannelService;
}

/** Expired refresh tokens are kept a day (for reuse forensics), then purged in batches every hour. */
const PURGE_INTERVAL_MS = 3_600_000;
const PURGE_GRACE_SECONDS = 86_400;
const PURGE_BATCH = 10_000;

export async function startAuth(options: StartAuthOptions = {}): Promise<AuthApp> {
  let parts: Omit<AuthApp, 'service'> | undefined;
  const service = await createService({
    name: 'auth',
    metricsPrefix: 'chat_auth',
    configSchema: authServiceConfigSchema,
    env: options.env,
    host: options.host,
    handleSignals: options.handleSignals,
    logDestination: options.logDestination,
    routes: async (app, { config, logger, metrics, health, onShutdown }) => {
      const db = new Database({
        url: config.POSTGRES_URL,
        poolMax: config.PG_POOL_MAX,
        readTimeoutMs: config.PG_READ_TIMEOUT_MS,
        writeTimeoutMs: config.PG_WRITE_TIMEOUT_MS,
        breakerResetMs: config.PG_BREAKER_RESET_MS,
        metrics,
        onPoolError: (err) => logger.warn({ err }, 'idle PostgreSQL connection dropped'),
      });
      onShutdown('postgres', () => db.close());

      const redis = connectRedis(config.REDIS_URL, logger);
      onShutdown('redis', async () => {
        await redis.quit().catch(() => redis.disconnect());
      });

      if (config.MIGRATE_ON_START) await new Migrator({ url: config.POSTGRES_URL, logger }).up();

      const keyEncryption = keyEncryptionKeys(config);
      if (!keyEncryption) {
        logger.warn(
          'KEY_ENCRYPTION_KEYS is not set: private signing keys are stored in plaintext (development only)',
        );
      }
      if (!config.INTERNAL_API_TOKEN) {
        logger.warn('INTERNAL_API_TOKEN is not set: the internal API refuses every request');
      }
      const keys = new KeyStore(db, {
        keyEncryption,
        accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
        reloadIntervalMs: config.SIGNING_KEY_RELOAD_MS,
        rotateAfterSeconds: config.SIGNING_KEY_ROTATE_AFTER_SECONDS,
        prepublishSeconds: config.SIGNING_KEY_PREPUBLISH_SECONDS,
        clockSkewSeconds: config.JWT_CLOCK_SKEW_SECONDS,
        onError: (err, what) => logger.error({ err }, `${what} failed`),
        onRotate: (kid) => logger.info({ kid }, 'signing key rotated'),
      });
      await keys.start();
      onShutdown('signing keys', () => keys.stop());

      const notificationFailures = metrics.counter(
        'change_notifications_failed_total',
        'Membership cache writes and channel events that failed (retried in the background).',
        ['what'],
      );
      const notifier = new ChangeNotifier(redis, {
        onError: (err, what, attempt, willRetry) => {
          notificationFailures.inc({ what });
          logger.warn({ err, what, attempt, willRetry }, 'change notification failed');
        },
      });
      onShutdown('change notifier', () => notifier.flush());

      // Shared by every auth replica; per replica (and counted) while Redis cannot answer.
      const limiter = new RedisRateLimiter(redis, { name: 'auth', prefix: 'chat:auth:ratelimit', metrics });

      const logins = metrics.counter('logins_total', 'Login attempts by outcome.', ['outcome']);
      const refreshes = metrics.counter('refreshes_total', 'Refresh-token uses by outcome.', ['outcome']);
      const familiesRevoked = metrics.counter(
        'refresh_families_revoked_total',
        'Refresh-token families revoked because a used token was presented again.',
        [],
      );
      const sessions = new SessionService(
        db,
        keys,
        new PasswordHasher(),
        limiter,
        {
          access: {
            issuer: config.JWT_ISSUER,
            audience: config.JWT_AUDIENCE,
            ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
          },
          refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
          limits: {
            loginPerIp: {
              name: 'login-ip',
              limit: config.LOGIN_IP_LIMIT,
              windowMs: config.LOGIN_IP_WINDOW_SECONDS * 1000,
            },
            loginPerAccount: {
              name: 'login-account',
              limit: config.LOGIN_ACCOUNT_LIMIT,
              windowMs: config.LOGIN_ACCOUNT_WINDOW_SECONDS * 1000,
            },
            signupPerIp: {
              name: 'signup-ip',
              limit: config.SIGNUP_IP_LIMIT,
              windowMs: config.SIGNUP_IP_WINDOW_SECONDS * 1000,
            },
          },
        },
        {
          login: (outcome) => logins.inc({ outcome }),
          refresh: (outcome) => refreshes.inc({ outcome }),
          familyRevoked: (info) => {
            familiesRevoked.inc();
            logger.warn(info, 'refresh token reused: family revoked');
          },
        },
      );
      const purge = setInterval(() => {
        sessions
          .purgeExpired(PURGE_GRACE_SECONDS, PURGE_BATCH)
          .then((n) => n > 0 && logger.info({ deleted: n }, 'expired refresh tokens purged'))
          .catch((err: unknown) => logger.warn({ err }, 'refresh token purge failed'));
      }, PURGE_INTERVAL_MS);
      purge.unref();
      onShutdown('refresh token purge', () => clearInterval(purge));

      const channels = new ChannelService(db, notifier);
      // Neither is critical: without PostgreSQL requests get a quick 503 DEPENDENCY_UNAVAILABLE and
      // JWKS is served from memory; without Redis limits fall back per replica. Both are shared, so
      // failing readiness on them would drain every replica at once and only turn 503s into resets.
      health.addCheck(postgresCheck(db.pool)).addCheck(redisCheck(redis));

      // Without it, behind an ingress every client would share the proxy's IP and its login limit.
      app.set('trust proxy', config.TRUST_PROXY_HOPS);
      app.use(
        authRoutes({
          sessions,
          channels,
          keys,
          issuer: config.JWT_ISSUER,
          audience: config.JWT_AUDIENCE,
          internalToken: config.INTERNAL_API_TOKEN,
        }),
      );
      await redisReady(redis);
      parts = { db, redis, keys, sessions, channels };
    },
  });
  if (!parts) throw new Error('auth: routes were not set up');
  return { service, ...parts };
}

/**
 * A Redis client that fails fast while Redis is away (no offline queue, 1 s command timeout), so
 * the limiter falls back and the notifier retries later instead of requests waiting, and that
 * reconnects by itself with backoff. Errors are logged once per outage, not once per attempt.
 */
function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1_000,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let up = true;
  redis.on('error', (err: Error) => {
    if (!up) return;
    up = false;
    logger.warn({ err }, 'Redis unavailable; rate limits are per replica and notifications are retried');
  });
  redis.on('ready', () => {
    if (up) return;
    up = true;
    logger.info('Redis available again');
  });
  return redis;
}

/** Waits briefly for the first connection; auth serves without Redis, only less well. */
async function redisReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
