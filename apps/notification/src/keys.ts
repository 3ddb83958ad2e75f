// Redis names the notification service owns or reads (docs/architecture.md, "Redis keys, channels and streams").
import { createHash } from 'node:crypto';

/** Written by the message service while a user has a live connection; present users are not notified. */
export const presenceKey = (userId: string): string => `chat:presence:${userId}`;

/** Hash of a user's settings: `mode` (auto|push|email|none), `email` (overrides the address from auth). */
export const settingsKey = (userId: string): string => `chat:notify:user:${userId}`;
/** Hash of a user's FCM registration tokens: token → JSON {platform, registeredAt}. */
export const devicesKey = (userId: string): string => `chat:notify:user:${userId}:devices`;
/** Set of channel ids the user muted. */
export const mutedKey = (userId: string): string => `chat:notify:user:${userId}:muted`;

/** Stable short id of a device token: used in dedupe keys, dead letters and the API (never the token itself). */
export function deviceId(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

/**
 * A message as dedupe keys name it: its id and creation time (ms). The id alone is derived from
 * (channel, seq), and seqs repeat after a restore from backup lowers them, so a new message would
 * share a restored one's id; its creation time tells them apart. A republished message (sweeper,
 * retried publish, dead-letter replay) carries the stored `createdAt`, so its key stays the same.
 */
export function messageInstance(message: { messageId: string; createdAt: string }): string {
  return `${message.messageId}@${Date.parse(message.createdAt)}`;
}

/**
 * Dedupe record of one delivery: (message, recipient, provider) plus the device for push, because
 * FCM v1 takes one registration token per request.
 */
export function dedupeKey(
  message: { messageId: string; createdAt: string },
  userId: string,
  provider: string,
  target: string,
): string {
  return `chat:notify:dedupe:${messageInstance(message)}:${userId}:${provider}:${target}`;
}
