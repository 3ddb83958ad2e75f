// PUT and DELETE /api/v1/messages/:channelId/:seq/reactions/:emoji (docs/openapi/message.yaml): one
// reaction of the caller, stored as its own document (store/reaction-store.ts) and announced to the
// channel's subscribers as a delta. Mounted inside messageRoutes, behind its authentication.
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { validate } from '@chatcluster/kit';
import type { ReactionEvent } from '@chatcluster/message-sdk';
import type { Access } from '../access.js';
import type { Bus } from '../bus/bus.js';
import { msgErrors } from '../errors.js';
import type { MessageStore } from '../store/message-store.js';
import type { ReactionStore } from '../store/reaction-store.js';

export interface ReactionRouteDeps {
  access: Access;
  store: MessageStore;
  reactions: ReactionStore;
  bus: Bus;
}

// One emoji as Unicode defines them (RGI: flags, keycaps, skin tones and ZWJ sequences included),
// or a `:shortcode:`. Compiled at run time: the `v` flag is beyond the compiler's target.
const rgiEmoji = new RegExp('^\\p{RGI_Emoji}$', 'v');
const shortcode = /^:[a-z0-9_+-]{1,30}:$/;
export const reactionKey = z
  .string()
  .max(32)
  .refine((key) => rgiEmoji.test(key) || shortcode.test(key), 'expected one emoji or a :shortcode:');

const params = z.object({
  channelId: z.string().uuid(),
  seq: z.coerce.number().int().min(1),
  emoji: reactionKey,
});

export function reactionRoutes(deps: ReactionRouteDeps): Router {
  const router = Router();
  for (const [method, add] of [
    ['put', true],
    ['delete', false],
  ] as const) {
    router[method](
      '/api/v1/messages/:channelId/:seq/reactions/:emoji',
      async (req: Request, res: Response) => {
        const { channelId, seq, emoji } = validate(params, req.params);
        const userId = (res.locals as { userId: string }).userId;
        await deps.access.requireMember(channelId, userId);
        const message = await deps.store.bySeq(channelId, seq);
        if (!message || message.hole) throw msgErrors.MSG_NOT_FOUND(`no message ${seq} in this channel`);
        if (message.deletedAt) throw msgErrors.MSG_ALREADY_DELETED(`message ${seq} is deleted`);
        const target = { messageId: message._id, channelId, seq };
        const result = add
          ? await deps.reactions.add(target, userId, emoji)
          : await deps.reactions.remove(target, userId, emoji);
        const event: ReactionEvent = {
          type: 'reaction.changed',
          channelId,
          seq,
          messageId: message._id,
          emoji,
          userId,
          change: add ? 'added' : 'removed',
          count: result.count,
          at: new Date().toISOString(),
        };
        // A repeat changed nothing: nothing to announce.
        if (result.changed) await deps.bus.publishReaction(event).catch(() => undefined);
        res.json({ reaction: event, changed: result.changed });
      },
    );
  }
  return router;
}
