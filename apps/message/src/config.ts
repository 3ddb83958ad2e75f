// The message service's variables (docs/architecture.md, docs/protocol.md "Limits").
import { env, kitConfigSchema, requiredInProduction } from '@chatcluster/kit';
import { hostname } from 'node:os';
import type { z } from 'zod';

const messageVariables = kitConfigSchema.extend({
  /** `production` (the images set it) makes INTERNAL_API_TOKEN required. */
  NODE_ENV: env.string('development'),
  PORT: env.port(8082),
  MONGO_URL: env.url({ protocols: ['mongodb:', 'mongodb+srv:'] }),
  REDIS_URL: env.url({ protocols: ['redis:', 'rediss:'] }),
  AUTH_URL: env.url({ protocols: ['http:', 'https:'] }),
  JWT_ISSUER: env.string(),
  JWT_AUDIENCE: env.string(),
  /** The pod name; presence entries and logs name it. */
  INSTANCE_ID: env.string(hostname()),
  /** Presented to auth's internal API (membership lookups), which refuses every call without it. */
  INTERNAL_API_TOKEN: env.string().optional(),
  MONGO_TIMEOUT_MS: env.durationMs(5_000),
  /** Requests' MongoDB calls this slow count against the `mongodb` breaker (half of them in 10 s open it). */
  MONGO_SLOW_CALL_MS: env.durationMs(1_000),
  /** The mongodb breakers' wait before a trial call: a trial a second finds MongoDB back within one. */
  MONGO_BREAKER_RESET_MS: env.durationMs(1_000),
  REDIS_TIMEOUT_MS: env.durationMs(1_000),
  /**
   * An allocated seq still free this long is sealed as a hole by the relay or a waiting reader: by
   * then its sender's insert (at most MONGO_TIMEOUT_MS, started right after the allocation) cannot
   * land. A sender whose insert fails seals its seqs itself at once.
   */
  HOLE_SEAL_AFTER_MS: env.durationMs(10_000),
  /** How often the relay compares the seq counters with what was published (and sweeps change entries). */
  OUTBOX_SWEEP_MS: env.durationMs(2_000),
  PURGE_AFTER_DAYS: env.int(30, { min: 0 }),
  PURGE_INTERVAL_MS: env.durationMs(3_600_000),
  SEND_RATE_PER_MIN: env.int(100, { min: 1 }),
  SEND_BURST: env.int(20, { min: 1 }),
  SEND_BURST_WINDOW_MS: env.durationMs(10_000),
  HTTP_RATE_PER_MIN: env.int(1000, { min: 1 }),
  /** A rate-limit check Redis answers slower than this is decided by this instance alone. */
  RATE_LIMIT_REDIS_TIMEOUT_MS: env.durationMs(100),
  WS_MAX_PAYLOAD_BYTES: env.byteSize('64kb'),
  WS_MAX_BUFFERED_BYTES: env.byteSize('1mb'),
  WS_HEARTBEAT_MS: env.durationMs(30_000),
  WS_IDLE_TIMEOUT_MS: env.durationMs(300_000),
  /** A socket upgraded without a token has this long to send its `auth` frame (close 4003 after). */
  WS_AUTH_TIMEOUT_MS: env.durationMs(5_000),
  /** Deprecated: accept `?access_token=` on /ws (the token then lands in access logs). Off by default. */
  WS_QUERY_TOKEN_ENABLED: env.bool(false),
  RECONNECT_SPREAD_MS: env.durationMs(5_000),
  PRESENCE_TTL_SECONDS: env.int(90, { min: 5 }),
  RECENT_CACHE_SIZE: env.int(200, { min: 0 }),
  /** Injected faults (faults.ts), for release tests and game days; never set by the operator. */
  FAULT_SEND_ERROR_PERCENT: env.int(0, { min: 0, max: 100 }),
  FAULT_PUBLISH_DELAY_MS: env.durationMs(0),
  /** Directory of the web page; served at / when set. */
  WEB_DIR: env.string().optional(),
});

/** Fails closed in production: without the internal token every membership check would be refused. */
export const messageConfigSchema = messageVariables.superRefine(
  requiredInProduction<z.output<typeof messageVariables>>('INTERNAL_API_TOKEN'),
);

export type MessageConfig = z.output<typeof messageConfigSchema>;
