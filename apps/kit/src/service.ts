// The whole skeleton in one call, so a service's main.ts only adds its routes and dependencies:
// config → logger → tracing → metrics → flags → HTTP app → listening server with graceful shutdown.
import type { Express } from 'express';
import type { DestinationStream } from 'pino';
import type { z } from 'zod';
import { loadConfig, type KitConfig } from './config.js';
import { FeatureFlags } from './flags.js';
import { Health } from './health.js';
import { createHttpApp, finishHttpApp } from './http/app.js';
import { startService, type Lifecycle, type NamedShutdownHook, type ShutdownHook } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { currentTracing, initTracing, type SpanProcessor } from './tracing.js';

export interface ServiceContext<C extends KitConfig> {
  /** SERVICE_NAME, or the name passed to createService. */
  readonly name: string;
  readonly config: C;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly health: Health;
  /** From FEATURE_FLAGS_FILE, reloaded live; all off when the variable is unset. */
  readonly flags: FeatureFlags;
  /** Closes a resource at shutdown, after in-flight requests drained; newest hooks run first. */
  onShutdown: (name: string, fn: ShutdownHook) => void;
}

export interface CreateServiceOptions<C extends KitConfig> {
  name: string;
  /** E.g. `chat_auth`; every metric of the service starts with it. */
  metricsPrefix: string;
  /** `kitConfigSchema.extend({ PORT: env.port(8081), ... })`. */
  configSchema: z.ZodType<C>;
  env?: Readonly<Record<string, string | undefined>>;
  /** Builds the service's dependencies and routes; register readiness checks and shutdown hooks here. */
  routes: (app: Express, context: ServiceContext<C>) => void | Promise<void>;
  host?: string;
  preStopDelayMs?: number;
  /** Install SIGTERM/SIGINT handlers (default true). */
  handleSignals?: boolean;
  /** Log destination; stdout by default. */
  logDestination?: DestinationStream;
  /** Span processors for the tracer provider; none (no export) by default. */
  spanProcessors?: SpanProcessor[];
}

export interface Service<C extends KitConfig> extends ServiceContext<C> {
  readonly app: Express;
  readonly url: string;
  readonly port: number;
  readonly server: Lifecycle['server'];
  shutdown: (reason: string) => Promise<void>;
}

/** Throws ConfigError on bad configuration: wrap in exitOnConfigError in a main. */
export async function createService<C extends KitConfig>(
  options: CreateServiceOptions<C>,
): Promise<Service<C>> {
  const config = loadConfig(options.configSchema, options.env);
  const name = config.SERVICE_NAME ?? options.name;
  const logger = createLogger({
    service: name,
    level: config.LOG_LEVEL,
    destination: options.logDestination,
  });
  const hooks: NamedShutdownHook[] = [];
  let register: (hookName: string, fn: ShutdownHook) => void = (hookName, fn) =>
    hooks.push({ name: hookName, fn });

  try {
    // OpenTelemetry's globals hold one provider per process; a second service in it shares the first's.
    let tracing = currentTracing();
    if (!tracing) {
      const ownTracing = initTracing({ service: name, spanProcessors: options.spanProcessors });
      register('tracing', () => ownTracing.shutdown());
      tracing = ownTracing;
    }
    const metrics = createMetrics(options.metricsPrefix);
    const health = new Health({ metrics });
    const flags = config.FEATURE_FLAGS_FILE
      ? await FeatureFlags.load({ file: config.FEATURE_FLAGS_FILE, logger, metrics })
      : FeatureFlags.fixed({}, metrics);
    register('feature flags', () => flags.close());

    const context: ServiceContext<C> = {
      name,
      config,
      logger,
      metrics,
      health,
      flags,
      onShutdown: (hookName, fn) => register(hookName, fn),
    };
    const app = createHttpApp({
      service: name,
      logger,
      metrics,
      health,
      bodyLimit: config.BODY_LIMIT,
      tracing,
    });
    await options.routes(app, context);
    finishHttpApp(app);

    const lifecycle = await startService({
      app,
      port: config.PORT,
      host: options.host,
      health,
      logger,
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      preStopDelayMs: options.preStopDelayMs,
      onShutdown: hooks,
      handleSignals: options.handleSignals,
    });
    register = lifecycle.register;
    logger.info({ url: lifecycle.url }, 'listening');
    return {
      ...context,
      app,
      url: lifecycle.url,
      port: lifecycle.port,
      server: lifecycle.server,
      shutdown: lifecycle.shutdown,
    };
  } catch (err) {
    // Undo what was set up (tracing globals, watchers) so the process can exit or retry cleanly.
    for (const hook of hooks.reverse()) {
      await Promise.resolve()
        .then(hook.fn)
        .catch((hookErr: unknown) =>
          logger.error({ err: hookErr, hook: hook.name }, 'cleanup after failed start'),
        );
    }
    throw err;
  }
}
