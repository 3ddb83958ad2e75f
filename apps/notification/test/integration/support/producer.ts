// Writes chat:notify entries the way the message service does (apps/message/src/bus/bus.ts: one
// MULTI with the Pub/Sub publish, the XADD without a MAXLEN (this service trims by age) and the
// recent-history ZADD), and times each write: that is the message service's cost of notifications.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { World } from './world.js';

export interface ProducedMessage {
  readonly messageId: string;
  readonly entryId: string;
  /** How long the MULTI took, in ms. */
  readonly latencyMs: number;
  readonly preview: string;
  /** As in the entry: with messageId, what dedupe keys name. */
  readonly createdAt: string;
}

let seq = 0;

export async function produceMessage(
  redis: Redis,
  world: World,
  preview = 'hello there',
): Promise<ProducedMessage> {
  seq += 1;
  const messageId = randomUUID();
  const createdAt = new Date().toISOString();
  const event = { type: 'message.created', channelId: world.channelId, seq, message: { id: messageId } };
  const started = performance.now();
  const results = await redis
    .multi()
    .publish(`chat:events:${world.channelId}`, JSON.stringify(event))
    .xadd(
      'chat:notify',
      '*',
      'type',
      'message.created',
      'messageId',
      messageId,
      'channelId',
      world.channelId,
      'seq',
      String(seq),
      'senderId',
      world.sender.userId,
      'preview',
      preview.slice(0, 140),
      'createdAt',
      createdAt,
    )
    .zadd(`chat:recent:${world.channelId}`, seq, JSON.stringify({ id: messageId, seq }))
    .exec();
  const latencyMs = performance.now() - started;
  const failed = results?.find(([err]) => err);
  if (failed) throw failed[0]!;
  return { messageId, entryId: results![1]![1] as string, latencyMs, preview, createdAt };
}

/** Adds a raw entry (for bad events). */
export async function addRawEntry(redis: Redis, fields: Record<string, string>): Promise<string> {
  return (await redis.xadd('chat:notify', '*', ...Object.entries(fields).flat()))!;
}
