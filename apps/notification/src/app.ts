// The notification service assembled on the kit: Redis (commands and a blocking reader), members
// from auth, settings, the two providers each behind its own breaker, bulkhead, retries and
// deadlines, the stream consumer, the trimmer, lag metrics and the settings API. Shutdown stops
// the consumer first (finish or release in-flight entries), then closes clients, then Redis.
import { JwksVerifier, MembershipClient } from '@chatcluster/auth-client';
import { createService, redisCheck, type CreateServiceOptions, type Service } from '@chatcluster/kit';
import { Redis, type RedisOptions } from 'ioredis';
import { notificationConfigSchema, providerSettings, type NotificationConfig } from './config.js';
import { DeadLetters } from './deadletter/dead-letters.js';
import { DedupeStore } from './delivery/dedupe.js';
import { GuardedProvider, type GuardedProviderOptions } from './delivery/guarded-provider.js';
import { Planner } from './delivery/planner.js';
import { EntryProcessor } from './delivery/processor.js';
import { AuthMemberDirectory } from './directory/members.js';
import { providers as providerNames, type ProviderName } from './events.js';
import { settingsRoutes } from './http/routes.js';
import { notificationMetrics } from './metrics.js';
import { FcmClient } from './providers/fcm.js';
import type { ProviderClient } from './providers/provider.js';
import { SendGridClient } from './providers/sendgrid.js';
import { SettingsStore } from './settings/store.js';
import { StreamConsumer } from './stream/consumer.js';
import { LagReporter } from './stream/lag.js';
import { StreamTrimmer } from './stream/trimmer.js';

export { notificationConfigSchema, type NotificationConfig } from './config.js';

export interface StartNotificationOptions {
  /** process.env by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly host?: string;
  /** Install SIGTERM/SIGINT handlers (default true; tests pass false). */
  readonly handleSignals?: boolean;
  readonly logDestination?: CreateServiceOptions<NotificationConfig>['logDestination'];
}

export interface NotificationApp {
  readonly service: Service<NotificationConfig>;
  readonly redis: Redis;
  readonly consumer: StreamConsumer;
  /** The configured providers only; deliveries to the others are dead-lettered. */
  readonly providers: ReadonlyMap<ProviderName, GuardedProvider>;
  readonly deadLetters: DeadLetters;
  readonly settings: SettingsStore;
  readonly trimmer: StreamTrimmer;
  readonly lag: LagReporter;
}

type Parts = Omit<NotificationApp, 'service'>;

export async function startNotification(options: StartNotificationOptions = {}): Promise<NotificationApp> {
  let parts: Parts | undefined;
  const service = await createService({
    name: 'notification',
    metricsPrefix: 'chat_notification',
    configSchema: notificationConfigSchema,
    env: options.env,
    host: options.host,
    handleSignals: options.handleSignals,
    logDestination: options.logDestination,
    routes: (app, { config, logger, metrics, health, onShutdown }) => {
      const redisOptions: RedisOptions = {
        maxRetriesPerRequest: 2,
        retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
      };
      const redis = new Redis(config.REDIS_URL, { ...redisOptions, connectionName: 'notification' });
      const blocking = new Redis(config.REDIS_URL, {
        ...redisOptions,
        connectionName: 'notification-reader',
      });
      for (const client of [redis, blocking]) {
        client.on('error', (err: Error) => logger.debug({ err }, 'redis connection error'));
      }
      onShutdown('redis', async () => {
        blocking.disconnect();
        await redis.quit().catch(() => redis.disconnect());
      });
      // Not critical: while Redis (shared by every replica) is away the consumer waits and resumes,
      // so failing readiness on it would only drain every replica at once.
      health.addCheck(redisCheck(redis));

      const nm = notificationMetrics(metrics);
      const membership = new MembershipClient({
        authUrl: config.AUTH_URL,
        redis: null,
        timeoutMs: config.AUTH_TIMEOUT_MS,
        metrics,
        ...(config.INTERNAL_API_TOKEN ? { internalToken: config.INTERNAL_API_TOKEN } : {}),
      });
      const directory = new AuthMemberDirectory(membership, { ttlMs: config.MEMBERS_CACHE_MS });
      onShutdown('auth members', () => directory.close());
      const verifier = new JwksVerifier({
        jwksUrl: new URL('/.well-known/jwks.json', config.AUTH_URL).toString(),
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        metrics,
      });
      onShutdown('jwks', () => verifier.close());
      void verifier.warm();

      const settings = new SettingsStore(redis);
      const common: Omit<GuardedProviderOptions, 'client'> = {
        kitMetrics: metrics,
        metrics: nm,
        callTimeoutMs: config.PROVIDER_CALL_TIMEOUT_MS,
        totalTimeoutMs: config.DELIVERY_TOTAL_TIMEOUT_MS,
        retries: config.PROVIDER_RETRIES,
        backoff: { delaysMs: config.RETRY_DELAYS_MS, jitterRatio: config.RETRY_JITTER },
        retryAfterMaxMs: config.RETRY_AFTER_MAX_MS,
        breaker: {
          consecutiveFailures: config.BREAKER_CONSECUTIVE_FAILURES,
          errorThresholdPercentage: config.BREAKER_ERROR_PERCENT,
          volumeThreshold: config.BREAKER_VOLUME_THRESHOLD,
          rollingCountTimeout: config.BREAKER_WINDOW_MS,
          resetTimeout: config.BREAKER_RESET_MS,
        },
        bulkhead: {
          maxConcurrent: config.PROVIDER_MAX_CONCURRENT,
          maxQueue: config.PROVIDER_MAX_QUEUE,
          queueTimeoutMs: config.PROVIDER_QUEUE_TIMEOUT_MS,
        },
      };
      // A provider without credentials is off: said once here, in readiness and in a gauge; its
      // deliveries are dead-lettered as provider_not_configured (a replay sends them once it is on).
      const setup = providerSettings(config);
      const clients = new Map<ProviderName, ProviderClient>();
      if (setup.fcm.enabled) clients.set('fcm', new FcmClient(setup.fcm.options));
      if (setup.sendgrid.enabled) clients.set('sendgrid', new SendGridClient(setup.sendgrid.options));
      const providers = new Map<ProviderName, GuardedProvider>();
      for (const name of providerNames) {
        const client = clients.get(name);
        const setting = setup[name];
        nm.providerEnabled.set({ provider: name }, client ? 1 : 0);
        if (client) {
          const provider = new GuardedProvider({ ...common, client });
          providers.set(name, provider);
          logger.info({ provider: name }, 'provider enabled');
          // Never fails readiness: an open breaker is handled by waiting in the stream, not by restarts.
          health.addCheck(name, () => Promise.resolve(`enabled, breaker ${provider.state}`), 100);
        } else if (!setting.enabled) {
          logger.warn(
            { provider: name, reason: setting.reason },
            'provider disabled: its deliveries are dead-lettered as provider_not_configured',
          );
          health.addCheck(name, () => Promise.resolve(`disabled: ${setting.reason}`), 100);
        }
      }

      const streams = { stream: config.NOTIFY_STREAM, deadStream: config.NOTIFY_DEAD_STREAM };
      const deadLetters = new DeadLetters(redis, streams);
      const processor = new EntryProcessor({
        planner: new Planner(directory, settings),
        // A lease outlives the longest try (all retries within the total deadline) by one call.
        dedupe: new DedupeStore(redis, {
          owner: config.INSTANCE_ID,
          leaseMs: config.DELIVERY_TOTAL_TIMEOUT_MS + config.PROVIDER_CALL_TIMEOUT_MS,
          ttlMs: config.DEDUPE_TTL_MS,
        }),
        providers,
        deadLetters,
        settings,
        metrics: nm,
        logger,
        maxTries: config.DELIVERY_MAX_TRIES,
        resendUnknownOutcome: config.RESEND_UNKNOWN_OUTCOME,
      });
      const consumer = new StreamConsumer({
        redis,
        blocking,
        stream: config.NOTIFY_STREAM,
        group: config.NOTIFY_GROUP,
        consumer: config.INSTANCE_ID,
        batch: config.READ_BATCH,
        blockMs: config.READ_BLOCK_MS,
        maxInFlight: config.MAX_IN_FLIGHT_ENTRIES,
        retryIntervalMs: config.RETRY_PASS_INTERVAL_MS,
        claimIdleMs: config.CLAIM_IDLE_MS,
        processor,
        logger,
      });
      // A breaker that half-opens needs a trial call, and one that closed has a backlog: go now.
      for (const provider of providers.values()) {
        provider.breaker.circuit.on('halfOpen', () => consumer.retrySoon());
        provider.breaker.circuit.on('close', () => consumer.retrySoon());
        provider.breaker.circuit.on('open', () =>
          logger.warn(
            { provider: provider.name },
            'provider breaker opened; its notifications wait in the stream',
          ),
        );
      }
      const trimmer = new StreamTrimmer({
        redis,
        stream: config.NOTIFY_STREAM,
        retentionMs: config.STREAM_RETENTION_MS,
        intervalMs: config.TRIM_INTERVAL_MS,
        logger,
        alsoEachRun: () => deadLetters.trim(config.DEAD_LETTER_RETENTION_MS),
      });
      const lag = new LagReporter({
        redis,
        stream: config.NOTIFY_STREAM,
        group: config.NOTIFY_GROUP,
        intervalMs: config.LAG_INTERVAL_MS,
        metrics: nm,
        logger,
      });
      onShutdown('consumer', async () => {
        await consumer.stop(config.SHUTDOWN_DRAIN_MS);
        lag.stop();
        await trimmer.stop();
        for (const provider of providers.values()) provider.close();
      });

      app.use(settingsRoutes({ settings, verifier }));
      consumer.start();
      trimmer.start();
      lag.start();
      parts = { redis, consumer, providers, deadLetters, settings, trimmer, lag };
    },
  });
  return { service, ...parts! };
}
