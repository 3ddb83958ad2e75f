// Per-user notification settings, device tokens and muted channels, in Redis hashes and sets the
// notification service owns (docs/notification-service.md, "Settings"). Presence is read from the
// keys the message service keeps while a user is connected.
import type { Redis } from 'ioredis';
import { deviceId, devicesKey, mutedKey, presenceKey, settingsKey } from '../keys.js';

/**
 * `auto` (the default): push when the user has a registered device, else e-mail. `push` and `email`
 * use only that channel; `none` sends nothing.
 */
export const notificationModes = ['auto', 'push', 'email', 'none'] as const;
export type NotificationMode = (typeof notificationModes)[number];

export const devicePlatforms = ['android', 'ios', 'web'] as const;
export type DevicePlatform = (typeof devicePlatforms)[number];

export interface Device {
  /** Stable short id (sha-256 of the token); the API never shows the token again. */
  readonly id: string;
  readonly token: string;
  readonly platform: DevicePlatform;
  readonly registeredAt: string;
}

/** What the planner needs about one recipient for one channel. */
export interface RecipientSettings {
  readonly mode: NotificationMode;
  /** Overrides the address auth knows; null to use auth's. */
  readonly email: string | null;
  readonly mutedHere: boolean;
  readonly devices: readonly Device[];
}

export interface UserSettings {
  readonly mode: NotificationMode;
  readonly email: string | null;
  readonly mutedChannels: readonly string[];
  readonly devices: readonly Device[];
}

/** A user keeps at most this many devices; registering another drops the oldest. */
export const MAX_DEVICES = 20;

function parseMode(value: string | undefined): NotificationMode {
  return notificationModes.find((m) => m === value) ?? 'auto';
}

function parseDevices(hash: Record<string, string>): Device[] {
  const devices: Device[] = [];
  for (const [token, raw] of Object.entries(hash)) {
    try {
      const meta = JSON.parse(raw) as { platform?: string; registeredAt?: string };
      const platform = devicePlatforms.find((p) => p === meta.platform) ?? 'android';
      devices.push({ id: deviceId(token), token, platform, registeredAt: meta.registeredAt ?? '' });
    } catch {
      devices.push({ id: deviceId(token), token, platform: 'android', registeredAt: '' });
    }
  }
  return devices.sort((a, b) => a.registeredAt.localeCompare(b.registeredAt));
}

export class SettingsStore {
  constructor(private readonly redis: Redis) {}

  /** Settings of many recipients for one channel, in one round trip. */
  async forRecipients(
    userIds: readonly string[],
    channelId: string,
  ): Promise<Map<string, RecipientSettings>> {
    const result = new Map<string, RecipientSettings>();
    if (userIds.length === 0) return result;
    const pipeline = this.redis.pipeline();
    for (const userId of userIds) {
      pipeline.hgetall(settingsKey(userId));
      pipeline.sismember(mutedKey(userId), channelId);
      pipeline.hgetall(devicesKey(userId));
    }
    const replies = (await pipeline.exec()) ?? [];
    userIds.forEach((userId, i) => {
      const [settingsReply, mutedReply, devicesReply] = replies.slice(i * 3, i * 3 + 3);
      for (const reply of [settingsReply, mutedReply, devicesReply]) if (reply?.[0]) throw reply[0];
      const settings = (settingsReply?.[1] ?? {}) as Record<string, string>;
      result.set(userId, {
        mode: parseMode(settings['mode']),
        email: settings['email'] || null,
        mutedHere: mutedReply?.[1] === 1,
        devices: parseDevices((devicesReply?.[1] ?? {}) as Record<string, string>),
      });
    });
    return result;
  }

  /** The users among `userIds` with a live connection (a presence key). */
  async online(userIds: readonly string[]): Promise<Set<string>> {
    const present = new Set<string>();
    if (userIds.length === 0) return present;
    const pipeline = this.redis.pipeline();
    for (const userId of userIds) pipeline.exists(presenceKey(userId));
    const replies = (await pipeline.exec()) ?? [];
    userIds.forEach((userId, i) => {
      const [err, exists] = replies[i] ?? [];
      if (err) throw err;
      if (exists === 1) present.add(userId);
    });
    return present;
  }

  async get(userId: string): Promise<UserSettings> {
    const [settings, muted, devices] = await Promise.all([
      this.redis.hgetall(settingsKey(userId)),
      this.redis.smembers(mutedKey(userId)),
      this.redis.hgetall(devicesKey(userId)),
    ]);
    return {
      mode: parseMode(settings['mode']),
      email: settings['email'] || null,
      mutedChannels: muted.sort(),
      devices: parseDevices(devices),
    };
  }

  /** `email: null` goes back to the address auth knows. */
  async update(userId: string, change: { mode?: NotificationMode; email?: string | null }): Promise<void> {
    const multi = this.redis.multi();
    if (change.mode !== undefined) multi.hset(settingsKey(userId), 'mode', change.mode);
    if (change.email === null) multi.hdel(settingsKey(userId), 'email');
    else if (change.email !== undefined) multi.hset(settingsKey(userId), 'email', change.email);
    await multi.exec();
  }

  /** Registers (or refreshes) a device; true when it was new. Beyond MAX_DEVICES the oldest goes. */
  async addDevice(userId: string, token: string, platform: DevicePlatform): Promise<boolean> {
    const key = devicesKey(userId);
    const added = await this.redis.hset(
      key,
      token,
      JSON.stringify({ platform, registeredAt: new Date().toISOString() }),
    );
    const devices = parseDevices(await this.redis.hgetall(key));
    const excess = devices.slice(0, Math.max(0, devices.length - MAX_DEVICES)).map((d) => d.token);
    if (excess.length > 0) await this.redis.hdel(key, ...excess);
    return added === 1;
  }

  /** Removes the device with this id; false when there was none. */
  async removeDevice(userId: string, id: string): Promise<boolean> {
    const key = devicesKey(userId);
    const tokens = Object.keys(await this.redis.hgetall(key)).filter((token) => deviceId(token) === id);
    if (tokens.length === 0) return false;
    await this.redis.hdel(key, ...tokens);
    return true;
  }

  /** Drops a token FCM called unregistered, so it is not tried again. */
  async removeToken(userId: string, token: string): Promise<void> {
    await this.redis.hdel(devicesKey(userId), token);
  }

  async mute(userId: string, channelId: string): Promise<void> {
    await this.redis.sadd(mutedKey(userId), channelId);
  }

  async unmute(userId: string, channelId: string): Promise<void> {
    await this.redis.srem(mutedKey(userId), channelId);
  }
}
