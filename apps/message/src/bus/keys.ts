// Redis names shared with other services (docs/architecture.md, "Redis keys, channels and streams").
export const eventsChannel = (channelId: string): string => `chat:events:${channelId}`;
export const eventsPrefix = 'chat:events:';
export const presenceKey = (userId: string): string => `chat:presence:${userId}`;
export const recentKey = (channelId: string): string => `chat:recent:${channelId}`;
export const NOTIFY_STREAM = 'chat:notify';
export const CHANNEL_EVENTS = 'chat:channel-events';
