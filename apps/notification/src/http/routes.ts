// The settings API a signed-in user calls (docs/notification-service.md, "Settings API"): mode and
// e-mail override, FCM device registration, per-channel mute. Tokens are verified locally against
// auth's JWKS; every body and parameter is validated.
import { bearerToken, TokenRejectedError, type JwksVerifier } from '@chatcluster/auth-client';
import { validate } from '@chatcluster/kit';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { notifyErrors } from '../errors.js';
import {
  devicePlatforms,
  notificationModes,
  type Device,
  type SettingsStore,
  type UserSettings,
} from '../settings/store.js';
import { deviceId } from '../keys.js';

const settingsBody = z
  .object({
    mode: z.enum(notificationModes).optional(),
    email: z.email().max(254).nullable().optional(),
  })
  .strict();
const deviceBody = z
  .object({
    // FCM registration tokens are ~160 characters of base64url and ':'.
    token: z
      .string()
      .min(16)
      .max(4096)
      .regex(/^[A-Za-z0-9_:.-]+$/, 'not an FCM registration token'),
    platform: z.enum(devicePlatforms),
  })
  .strict();
const channelParams = z.object({ channelId: z.uuid() });
const deviceParams = z.object({ deviceId: z.string().regex(/^[0-9a-f]{16}$/, 'not a device id') });

function deviceView(d: Device): object {
  return { id: d.id, platform: d.platform, registeredAt: d.registeredAt };
}

function settingsView(s: UserSettings): object {
  return { mode: s.mode, email: s.email, mutedChannels: s.mutedChannels, devices: s.devices.map(deviceView) };
}

function userOf(res: Response): string {
  return res.locals['userId'] as string;
}

export function settingsRoutes(deps: { settings: SettingsStore; verifier: JwksVerifier }): Router {
  const { settings, verifier } = deps;
  const router = Router();

  const requireUser = async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) throw new TokenRejectedError('missing', 'a bearer token is required');
    res.locals['userId'] = (await verifier.verify(token)).sub;
    next();
  };
  router.use('/api/v1/me', requireUser);

  router.get('/api/v1/me/notification-settings', async (_req: Request, res: Response) => {
    res.json(settingsView(await settings.get(userOf(res))));
  });
  router.patch('/api/v1/me/notification-settings', async (req: Request, res: Response) => {
    const body = validate(settingsBody, req.body ?? {});
    await settings.update(userOf(res), body);
    res.json(settingsView(await settings.get(userOf(res))));
  });
  router.post('/api/v1/me/devices', async (req: Request, res: Response) => {
    const body = validate(deviceBody, req.body ?? {});
    const created = await settings.addDevice(userOf(res), body.token, body.platform);
    const id = deviceId(body.token);
    const device = (await settings.get(userOf(res))).devices.find((d) => d.id === id);
    res.status(created ? 201 : 200).json(device ? deviceView(device) : { id, platform: body.platform });
  });
  router.delete('/api/v1/me/devices/:deviceId', async (req: Request, res: Response) => {
    const { deviceId: id } = validate(deviceParams, req.params);
    if (!(await settings.removeDevice(userOf(res), id))) {
      throw notifyErrors.NOTIFY_DEVICE_NOT_FOUND('no such device');
    }
    res.status(204).end();
  });
  router.put('/api/v1/me/muted-channels/:channelId', async (req: Request, res: Response) => {
    const { channelId } = validate(channelParams, req.params);
    await settings.mute(userOf(res), channelId);
    res.status(204).end();
  });
  router.delete('/api/v1/me/muted-channels/:channelId', async (req: Request, res: Response) => {
    const { channelId } = validate(channelParams, req.params);
    await settings.unmute(userOf(res), channelId);
    res.status(204).end();
  });
  return router;
}
