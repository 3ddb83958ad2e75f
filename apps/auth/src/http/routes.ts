// The HTTP API: public under /api/v1 (docs/openapi/auth.yaml), the JWKS, and the internal API
// under /internal/v1 for the other services. Every input is validated before it reaches a service.
import { validate } from '@chatcluster/kit';
import { Router, type Request, type Response } from 'express';
import { authErrors } from '../errors.js';
import type { Channel, ChannelForUser } from '../repositories/channels.js';
import type { Member, Membership } from '../repositories/memberships.js';
import {
  addMemberBody,
  channelParams,
  createChannelBody,
  deletedChannelsQuery,
  internalMembersQuery,
  loginBody,
  memberParams,
  pageQuery,
  refreshBody,
  signupBody,
} from '../schemas.js';
import type { ChannelService } from '../services/channel-service.js';
import type { SessionService } from '../services/session-service.js';
import type { KeyStore } from '../tokens/key-store.js';
import { caller, requireInternalToken, requireUser } from './authenticate.js';

function channelView(c: ChannelForUser | Channel): object {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    visibility: c.visibility,
    createdBy: c.createdBy,
    createdAt: c.createdAt.toISOString(),
    myRole: 'myRole' in c ? c.myRole : null,
  };
}

function membershipView(m: Membership): object {
  return { channelId: m.channelId, userId: m.userId, role: m.role, joinedAt: m.joinedAt.toISOString() };
}

/** Members as other users see them: no e-mail addresses. */
function memberView(m: Member): object {
  return {
    userId: m.userId,
    username: m.username,
    displayName: m.displayName,
    role: m.role,
    joinedAt: m.joinedAt.toISOString(),
  };
}

function internalMemberView(m: Member): object {
  return { ...memberView(m), email: m.email };
}

export interface RouteDeps {
  readonly sessions: SessionService;
  readonly channels: ChannelService;
  readonly keys: KeyStore;
  readonly issuer: string;
  readonly audience: string;
  readonly internalToken?: string | undefined;
}

function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** Public API under /api/v1, the JWKS, and the internal API under /internal/v1. */
export function authRoutes(deps: RouteDeps): Router {
  const { sessions, channels, keys } = deps;
  const router = Router();
  const user = requireUser(keys, { issuer: deps.issuer, audience: deps.audience });

  router.get('/.well-known/jwks.json', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'public, max-age=60').json(keys.jwks());
  });

  // ---- sessions ----
  router.post('/api/v1/auth/signup', async (req: Request, res: Response) => {
    const body = validate(signupBody, req.body ?? {});
    res.status(201).json(await sessions.signup(body, clientIp(req)));
  });
  router.post('/api/v1/auth/login', async (req: Request, res: Response) => {
    const body = validate(loginBody, req.body ?? {});
    res.json(await sessions.login(body, clientIp(req)));
  });
  router.post('/api/v1/auth/refresh', async (req: Request, res: Response) => {
    const body = validate(refreshBody, req.body ?? {});
    res.json(await sessions.refresh(body.refreshToken));
  });
  router.post('/api/v1/auth/logout', async (req: Request, res: Response) => {
    const body = validate(refreshBody, req.body ?? {});
    await sessions.logout(body.refreshToken);
    res.status(204).end();
  });
  router.get('/api/v1/me', user, async (_req: Request, res: Response) => {
    res.json(await sessions.me(caller(res).sub));
  });

  // ---- channels ----
  router.get('/api/v1/me/channels', user, async (req: Request, res: Response) => {
    const q = validate(pageQuery, req.query);
    const page = await channels.mine(caller(res).sub, q.limit, q.cursor);
    res.json({ items: page.items.map(channelView), nextCursor: page.nextCursor });
  });
  router.post('/api/v1/channels', user, async (req: Request, res: Response) => {
    const body = validate(createChannelBody, req.body ?? {});
    res.status(201).json(channelView(await channels.create(caller(res).sub, body)));
  });
  router.get('/api/v1/channels', user, async (req: Request, res: Response) => {
    const q = validate(pageQuery, req.query);
    const page = await channels.list(caller(res).sub, q.limit, q.cursor);
    res.json({ items: page.items.map(channelView), nextCursor: page.nextCursor });
  });
  router.get('/api/v1/channels/:channelId', user, async (req: Request, res: Response) => {
    const { channelId } = validate(channelParams, req.params);
    res.json(channelView(await channels.get(caller(res).sub, channelId)));
  });
  router.delete('/api/v1/channels/:channelId', user, async (req: Request, res: Response) => {
    const { channelId } = validate(channelParams, req.params);
    await channels.delete(caller(res).sub, channelId);
    res.status(204).end();
  });
  router.post('/api/v1/channels/:channelId/join', user, async (req: Request, res: Response) => {
    const { channelId } = validate(channelParams, req.params);
    res.json(membershipView(await channels.join(caller(res).sub, channelId)));
  });
  router.post('/api/v1/channels/:channelId/leave', user, async (req: Request, res: Response) => {
    const { channelId } = validate(channelParams, req.params);
    await channels.leave(caller(res).sub, channelId);
    res.status(204).end();
  });
  router.get('/api/v1/channels/:channelId/members', user, async (req: Request, res: Response) => {
    const { channelId } = validate(channelParams, req.params);
    const q = validate(pageQuery, req.query);
    const page = await channels.members(caller(res).sub, channelId, q.limit, q.cursor);
    res.json({ items: page.items.map(memberView), nextCursor: page.nextCursor });
  });
  router.post('/api/v1/channels/:channelId/members', user, async (req: Request, res: Response) => {
    const { channelId } = validate(channelParams, req.params);
    const body = validate(addMemberBody, req.body ?? {});
    const { membership, created } = await channels.addMember(caller(res).sub, channelId, body);
    res.status(created ? 201 : 200).json(membershipView(membership));
  });
  router.delete('/api/v1/channels/:channelId/members/:userId', user, async (req: Request, res: Response) => {
    const { channelId, userId } = validate(memberParams, req.params);
    await channels.removeMember(caller(res).sub, channelId, userId);
    res.status(204).end();
  });

  // ---- internal ----
  const internal = requireInternalToken(deps.internalToken);
  router.get('/internal/v1/channels/deleted', internal, async (req: Request, res: Response) => {
    const q = validate(deletedChannelsQuery, req.query);
    const rows = await channels.deletedSince(q.afterSeq, q.limit);
    res.json({
      channels: rows.map((r) => ({
        channelId: r.channelId,
        deletedAt: r.deletedAt.toISOString(),
        seq: r.seq,
      })),
    });
  });
  router.get(
    '/internal/v1/channels/:channelId/members/:userId',
    internal,
    async (req: Request, res: Response) => {
      const { channelId, userId } = validate(memberParams, req.params);
      res.json(await channels.lookup(channelId, userId));
    },
  );
  router.get('/internal/v1/channels/:channelId/members', internal, async (req: Request, res: Response) => {
    const { channelId } = validate(channelParams, req.params);
    const q = validate(internalMembersQuery, req.query);
    const page = await channels.internalMembers(channelId, q.limit, q.cursor);
    if (!page) throw authErrors.AUTH_CHANNEL_NOT_FOUND('no such channel');
    res.json({
      channelId,
      channel: page.channel,
      members: page.members.map(internalMemberView),
      nextCursor: page.nextCursor,
    });
  });

  return router;
}
