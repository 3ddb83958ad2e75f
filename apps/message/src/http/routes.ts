// REST API under /api/v1/messages, the prefix the ingress routes to message (docs/openapi/message.yaml): send, history, edit, delete, reactions.
import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { bearerToken, KeysUnavailableError, type JwksVerifier } from '@chatcluster/auth-client';
import { AppError, isAppError, kitErrors, validate } from '@chatcluster/kit';
import { clientMessageIdPattern, maxBodyLength } from '@chatcluster/message-sdk';
import type { Access } from '../access.js';
import type { Bus } from '../bus/bus.js';
import type { MessageMetrics } from '../metrics.js';
import type { RateLimiter } from '../rate-limit.js';
import type { SendService } from '../send-service.js';
import { toView, type MessageStore } from '../store/message-store.js';
import type { OutboxRelay } from '../outbox/relay.js';
import type { ReactionStore } from '../store/reaction-store.js';
import { reactionRoutes } from './reaction-routes.js';

export interface RouteDeps {
  verifier: JwksVerifier;
  access: Access;
  store: MessageStore;
  reactions: ReactionStore;
  sends: SendService;
  relay: OutboxRelay;
  bus: Bus;
  httpLimiter: RateLimiter;
  sendLimiter: RateLimiter;
  metrics: MessageMetrics;
}

const uuid = z.string().uuid();
const sendBody = z.object({
  channelId: uuid,
  clientMessageId: z.string().regex(clientMessageIdPattern),
  body: z.string().min(1).max(maxBodyLength),
});
const editBody = z.object({ body: z.string().min(1).max(maxBodyLength) });
const historyParams = z.object({ channelId: uuid });
const messageParams = z.object({ channelId: uuid, seq: z.coerce.number().int().min(1) });
const historyQuery = z.object({
  channelId: uuid,
  before: z.coerce.number().int().min(1).optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

function userOf(res: Response): string {
  return (res.locals as { userId: string }).userId;
}

export function messageRoutes(deps: RouteDeps): Router {
  const router = Router();
  const { access, store } = deps;

  router.use('/api/v1/messages', async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) throw kitErrors.UNAUTHENTICATED('a bearer token is required');
    try {
      const claims = await deps.verifier.verify(token);
      (res.locals as { userId: string }).userId = claims.sub;
    } catch (err) {
      if (err instanceof KeysUnavailableError) {
        throw new AppError('MSG_AUTH_UNAVAILABLE', 'tokens cannot be verified right now', {
          retryAfterSeconds: 2,
        });
      }
      throw kitErrors.UNAUTHENTICATED('invalid token');
    }
    const wait = await deps.httpLimiter.take(userOf(res));
    if (wait > 0) {
      deps.metrics.rateLimited.inc({ limit: 'http' });
      throw kitErrors.RATE_LIMITED('too many requests', { retryAfterSeconds: wait });
    }
    next();
  });

  router.post('/api/v1/messages', async (req: Request, res: Response) => {
    const input = validate(sendBody, req.body);
    const userId = userOf(res);
    const wait = await deps.sendLimiter.take(userId);
    if (wait > 0) {
      deps.metrics.rateLimited.inc({ limit: 'send' });
      throw kitErrors.RATE_LIMITED('too many messages; slow down', { retryAfterSeconds: wait });
    }
    const result = await access
      .requireMember(input.channelId, userId)
      .then(() => deps.sends.send({ ...input, senderId: userId }))
      .then((r) => (r.ok ? r : Promise.reject(r.error)))
      .catch((err: unknown) => {
        deps.sendLimiter.refundIfServerFault(userId, err);
        throw err;
      });
    res
      .status(result.duplicate ? 200 : 201)
      .json({ message: toView(result.doc), duplicate: result.duplicate });
  });

  router.get('/api/v1/messages', async (req: Request, res: Response) => {
    const { channelId } = validate(historyParams, { channelId: req.query['channelId'] });
    const query = validate(historyQuery, req.query);
    await access.requireMember(channelId, userOf(res));
    try {
      const page = await store.history(channelId, query);
      const reactions = await deps.reactions.forMessages(
        page.items.filter((doc) => !doc.deletedAt).map((doc) => doc._id),
      );
      res.json({
        items: page.items.map((doc) => toView(doc, reactions.get(doc._id))),
        prevBefore: page.prevBefore,
        nextAfter: page.nextAfter,
        source: 'store',
      });
    } catch (err) {
      // MongoDB down: recent history from the Redis cache, marked as such (it may be incomplete).
      if (!isAppError(err, 'MSG_STORE_UNAVAILABLE')) throw err;
      const items = await deps.bus.recent(channelId, query).catch(() => null);
      if (!items || items.length === 0) throw err;
      res.json({
        items,
        prevBefore: items[0]!.seq,
        nextAfter: items[items.length - 1]!.seq,
        source: 'cache',
      });
    }
  });

  router.get('/api/v1/messages/:channelId/:seq', async (req: Request, res: Response) => {
    const { channelId, seq } = validate(messageParams, req.params);
    await access.requireMember(channelId, userOf(res));
    const doc = await store.bySeq(channelId, seq);
    if (!doc || doc.hole) throw new AppError('MSG_NOT_FOUND', `no message ${seq} in this channel`);
    const reactions = doc.deletedAt ? undefined : (await deps.reactions.forMessages([doc._id])).get(doc._id);
    res.json({ message: toView(doc, reactions) });
  });

  router.patch('/api/v1/messages/:channelId/:seq', async (req: Request, res: Response) => {
    const { channelId, seq } = validate(messageParams, req.params);
    const { body } = validate(editBody, req.body);
    await access.requireMember(channelId, userOf(res));
    const doc = await store.edit(channelId, seq, userOf(res), body);
    deps.relay.changed(doc);
    res.json({ message: toView(doc) });
  });

  router.delete('/api/v1/messages/:channelId/:seq', async (req: Request, res: Response) => {
    const { channelId, seq } = validate(messageParams, req.params);
    const member = await access.requireMember(channelId, userOf(res));
    const doc = await store.softDelete(channelId, seq, userOf(res), member.role === 'owner');
    deps.relay.changed(doc);
    // A tombstone carries no reactions (reads skip them anyway): best effort.
    await deps.reactions.removeForMessages([doc._id]).catch(() => undefined);
    res.json({ message: toView(doc) });
  });

  router.use(reactionRoutes({ access, store, reactions: deps.reactions, bus: deps.bus }));

  return router;
}
