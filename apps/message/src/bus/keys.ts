// Redis names shared with other services (docs/architecture.md, "Redis keys, channels and streams").
export const eventsChannel = (channelId: string): string => `chat:events:${channelId}`;
export const eventsPrefix = 'chat:events:';
export const presenceKey = (userId: string): string => `chat:presence:${userId}`;
/** Stream of the channel's published events (the recent-history cache, and what the relay checks). */
export const historyKey = (channelId: string): string => `chat:history:${channelId}`;
export const NOTIFY_STREAM = 'chat:notify';
export const CHANNEL_EVENTS = 'chat:channel-events';
/** Auth's revocations (membership.removed, channel.deleted), also on CHANNEL_EVENTS (bus/revocations.ts). */
export const REVOCATIONS_STREAM = 'chat:revocations';
/** Hash `{top, epoch, base}`: the channel's seq counter and epoch (store/seq-counter.ts). */
export const seqCounterKey = (channelId: string): string => `chat:seq:${channelId}`;
/** The seq a send was given, kept for its resends. */
export const sentKey = (channelId: string, clientMessageId: string): string =>
  `chat:sent:${channelId}:${clientMessageId}`;
/** Sorted set channelId → when a seq was last allocated in it: the channels the relay checks. */
export const ACTIVE_CHANNELS = 'chat:seq:active';
/** Hash channelId → the seq up to which the relay found every seq published or sealed. */
export const RELAY_MARKS = 'chat:relay:marks';
/** One relay pass at a time across instances. */
export const RELAY_LOCK = 'chat:relay:lock';
