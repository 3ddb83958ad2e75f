// Wires the message service: MongoDB, Redis, auth client, delivery hub, outbox relay, WebSocket
// endpoint, REST routes, purge job, readiness checks and the shutdown order.
import type { Server as HttpServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { JwksVerifier, MembershipClient } from '@chatcluster/auth-client';
import { createService, mongoCheck, redisCheck, RedisRateLimiter, type Service } from '@chatcluster/kit';
import { Access } from './access.js';
import { Bus, type AuthChannelEvent } from './bus/bus.js';
import { createRedisGuard } from './bus/redis-guard.js';
import { ChannelEventOrder, RevocationReader } from './bus/revocations.js';
import { messageConfigSchema, type MessageConfig } from './config.js';
import { Hub } from './delivery/hub.js';
import { deliveryObserver } from './delivery/observer.js';
import { authProxy } from './http/auth-proxy.js';
import { messageRoutes } from './http/routes.js';
import { messageMetrics } from './metrics.js';
import { OutboxRelay } from './outbox/relay.js';
import { Presence } from './presence.js';
import { LostConnections } from './ws/lost-connections.js';
import { RateLimiter } from './rate-limit.js';
import { SendService } from './send-service.js';
import { withDelayedCall, withSendErrors } from './faults.js';
import { createStoreGuard } from './store/guard.js';
import { MessageStore } from './store/message-store.js';
import { SeqCounter } from './store/seq-counter.js';
import { openMessageDatabase } from './store/connection.js';
import { REACTIONS_COLLECTION, ReactionStore, type ReactionDoc } from './store/reaction-store.js';
import { WsServer } from './ws/server.js';

export interface StartOptions {
  env?: Readonly<Record<string, string | undefined>>;
  handleSignals?: boolean;
}

export async function startMessageService(options: StartOptions = {}): Promise<Service<MessageConfig>> {
  let ws: WsServer | undefined;
  let hubRef: Hub | undefined;
  let onListening: ((server: HttpServer) => void) | undefined;
  const service = await createService<MessageConfig>({
    name: 'message',
    metricsPrefix: 'chat_message',
    configSchema: messageConfigSchema,
    env: options.env,
    handleSignals: options.handleSignals,
    routes: async (app, ctx) => {
      const { config, logger, metrics, health } = ctx;
      const m = messageMetrics(metrics);

      const database = await openMessageDatabase(config.MONGO_URL, logger);
      const { connection, models } = database;
      const ping = async () => {
        if (!connection.db) throw new Error('not connected');
        await connection.db.command({ ping: 1 });
      };
      const storeGuard = createStoreGuard({
        name: 'mongodb',
        timeoutMs: config.MONGO_TIMEOUT_MS,
        resetMs: config.MONGO_BREAKER_RESET_MS,
        slowCallMs: config.MONGO_SLOW_CALL_MS,
        trial: ping,
        metrics,
      });
      const backgroundGuard = createStoreGuard({
        name: 'mongodb-background',
        timeoutMs: config.MONGO_TIMEOUT_MS * 6,
        resetMs: config.MONGO_BREAKER_RESET_MS,
        trial: ping,
        metrics,
      });
      const redisGuard = createRedisGuard(config.REDIS_TIMEOUT_MS, metrics);
      const bus = new Bus({
        url: config.REDIS_URL,
        instanceId: config.INSTANCE_ID,
        guard: redisGuard,
        logger,
        recentSize: config.RECENT_CACHE_SIZE,
      });
      await bus.start();

      // Set once the hub exists: a hole sealed here is given to local readers and announced to the others.
      let holeSealed = (_channelId: string, _seq: number): void => undefined;
      const seqs = new SeqCounter(bus.cmd, redisGuard, (channelId) => store.counter(channelId));
      const store: MessageStore = new MessageStore(models, storeGuard, {
        background: backgroundGuard,
        seqs,
        onHoleSealed: (channelId, seq) => {
          m.holes.inc();
          holeSealed(channelId, seq);
        },
        onInsertConflict: () => m.insertConflicts.inc(),
      });
      const reactions = new ReactionStore(
        models.messages.db.collection<ReactionDoc>(REACTIONS_COLLECTION),
        storeGuard,
      );

      const verifier = new JwksVerifier({
        jwksUrl: new URL('/.well-known/jwks.json', config.AUTH_URL).toString(),
        issuer: config.JWT_ISSUER,
        audience: config.JWT_AUDIENCE,
        metrics,
      });
      void verifier.warm();
      const memberships = new MembershipClient({
        authUrl: config.AUTH_URL,
        redis: bus.cmd,
        metrics,
        ...(config.INTERNAL_API_TOKEN ? { internalToken: config.INTERNAL_API_TOKEN } : {}),
      });
      const access = new Access(memberships);
      for (const id of await store.deletedChannelIds().catch(() => [])) access.markDeleted(id);

      const hub = new Hub({
        store,
        epochOf: (channelId) => seqs.epoch(channelId),
        bus,
        logger,
        sealAfterMs: config.HOLE_SEAL_AFTER_MS,
        redisTimeoutMs: config.REDIS_TIMEOUT_MS,
        observe: deliveryObserver(m),
      });
      hubRef = hub;
      holeSealed = (channelId, seq) => {
        hub.receiveHole(channelId, seq);
        bus.publishHole(channelId, seq).catch(() => undefined);
      };
      const relay = new OutboxRelay({
        store,
        bus,
        seqs,
        logger,
        metrics: m,
        local: (event) => hub.receive(event),
        localHole: (channelId, seq) => hub.receiveHole(channelId, seq),
        sweepIntervalMs: config.OUTBOX_SWEEP_MS,
        sealAfterMs: config.HOLE_SEAL_AFTER_MS,
      });
      relay.start();
      const sends = withSendErrors(
        new SendService(
          store,
          withDelayedCall(relay, 'changed', config.FAULT_PUBLISH_DELAY_MS),
          m,
          storeGuard.breaker,
          config.MONGO_TIMEOUT_MS * 2,
        ),
        config.FAULT_SEND_ERROR_PERCENT,
      );
      const minute = 60_000;
      const limits = new RedisRateLimiter(bus.cmd, {
        name: 'message',
        prefix: 'chat:ratelimit:message',
        timeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS,
        metrics,
      });
      const sendLimiter = new RateLimiter(limits, [
        { name: 'send-minute', limit: config.SEND_RATE_PER_MIN, windowMs: minute },
        { name: 'send-burst', limit: config.SEND_BURST, windowMs: config.SEND_BURST_WINDOW_MS },
      ]);
      const httpLimiter = new RateLimiter(limits, [
        { name: 'http', limit: config.HTTP_RATE_PER_MIN, windowMs: minute },
      ]);
      const presence = new Presence(
        bus.cmd,
        redisGuard,
        config.INSTANCE_ID,
        config.PRESENCE_TTL_SECONDS,
        logger,
      );
      presence.start();

      // Revocations come by Pub/Sub and, so that none is lost, by the chat:revocations stream too.
      const eventOrder = new ChannelEventOrder();
      const onChannelEvent = (event: AuthChannelEvent): void => {
        if (!eventOrder.isNew(event)) return;
        if (event.type === 'channel.deleted') {
          access.markDeleted(event.channelId);
          const at = event.deletedAt ? new Date(event.deletedAt) : new Date();
          store.markChannelDeleted(event.channelId, event.seq, at).catch(() => undefined);
          hub.endSubscriptions(event.channelId, 'channel.deleted');
        } else if (event.type === 'membership.removed' && event.userId) {
          access.forget(event.channelId, event.userId);
          hub.endSubscriptions(event.channelId, 'membership.removed', event.userId);
        } else if (event.userId) {
          access.forget(event.channelId, event.userId);
        }
      };
      bus.onChannelEvent(onChannelEvent);
      const revocations = new RevocationReader({ url: config.REDIS_URL, logger, onEvent: onChannelEvent });
      revocations.start();

      const purge = setInterval(() => {
        const cutoff = new Date(Date.now() - config.PURGE_AFTER_DAYS * 86_400_000);
        store
          .purgeTombstones(cutoff)
          .then((n) => n > 0 && logger.info({ purged: n }, 'purged old tombstones'))
          .catch((err: unknown) => logger.warn({ err }, 'tombstone purge failed'));
      }, config.PURGE_INTERVAL_MS);
      purge.unref();

      // Neither is critical: without MongoDB sockets stay up, history comes from the Redis cache and
      // sends get 503 MSG_STORE_UNAVAILABLE; sends keep being stored while Redis is away. Both are
      // shared, so failing readiness on them would drain every replica at once.
      health.addCheck(mongoCheck(connection));
      health.addCheck(redisCheck(bus.cmd));

      app.use(
        messageRoutes({
          verifier,
          access,
          store,
          reactions,
          sends,
          relay,
          bus,
          httpLimiter,
          sendLimiter,
          metrics: m,
        }),
      );
      // The chat page and the SDK it imports (ES modules, no bundler).
      if (config.WEB_DIR) {
        app.use(authProxy(config.AUTH_URL));
        app.use('/', express.static(config.WEB_DIR));
      }
      app.use(
        '/sdk',
        express.static(join(dirname(fileURLToPath(import.meta.resolve('@chatcluster/message-sdk'))))),
      );

      onListening = (server) => {
        ws = new WsServer({
          server,
          verifier,
          health,
          presence,
          instanceId: config.INSTANCE_ID,
          maxPayloadBytes: config.WS_MAX_PAYLOAD_BYTES,
          heartbeatMs: config.WS_HEARTBEAT_MS,
          idleTimeoutMs: config.WS_IDLE_TIMEOUT_MS,
          authTimeoutMs: config.WS_AUTH_TIMEOUT_MS,
          queryTokenEnabled: config.WS_QUERY_TOKEN_ENABLED,
          hub,
          access,
          sends,
          sendLimiter,
          metrics: m,
          logger,
          maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
        });
      };

      // Hooks run newest first: clients are told to reconnect, then the relay flushes, then
      // connections close.
      ctx.onShutdown('mongodb', () => database.close());
      ctx.onShutdown('redis', () => bus.close());
      ctx.onShutdown('revocation reader', () => revocations.stop());
      ctx.onShutdown('auth client', () => {
        verifier.close();
        memberships.close();
        storeGuard.breaker.shutdown();
        backgroundGuard.breaker.shutdown();
        redisGuard.breaker.shutdown();
      });
      ctx.onShutdown('outbox relay', async () => {
        await relay.stop();
        await relay.sweep().catch(() => undefined);
        await store.flushCounters().catch(() => undefined);
      });
      ctx.onShutdown('presence', () => presence.stop());
      // Runs after the drain (hooks run newest first): nothing is open any more, nothing was lost.
      const lostConnections = new LostConnections({
        redis: bus.cmd,
        guard: redisGuard,
        instanceId: config.INSTANCE_ID,
        openNow: () => ws?.connections.size ?? 0,
        metrics: m,
        logger,
      });
      lostConnections.start();
      ctx.onShutdown('lost connections', () => lostConnections.stop());
      ctx.onShutdown('delivery hub', () => hub.close());
      ctx.onShutdown('websocket drain', async () => {
        await ws?.drain(config.RECONNECT_SPREAD_MS, Date.now() + config.SHUTDOWN_TIMEOUT_MS - 2_000);
      });
    },
  });
  onListening?.(service.server);
  void hubRef;
  return service;
}
