// Redis names shared with other services (docs/architecture.md, "Redis keys, channels and streams").
export const eventsChannel = (channelId: string): string => `chat:events:${channelId}`;
export const eventsPrefix = 'chat:events:';
export const presenceKey = (userId: string): string => `chat:presence:${userId}`;
export const recentKey = (channelId: string): string => `chat:recent:${channelId}`;
export const NOTIFY_STREAM = 'chat:notify';
export const CHANNEL_EVENTS = 'chat:channel-events';
/** Hash `{top, epoch, base}`: the channel's seq counter and epoch (store/seq-counter.ts). */
export const seqCounterKey = (channelId: string): string => `chat:seq:${channelId}`;
/** The seq a send was given, kept for its resends. */
export const sentKey = (channelId: string, clientMessageId: string): string =>
  `chat:sent:${channelId}:${clientMessageId}`;
