// A reaction delta as delivered: encoded once per instance, the same bytes for every recipient.
import type { EventFrame, ReactionEvent } from '@chatcluster/message-sdk';

export interface ReactionFrame {
  readonly event: ReactionEvent;
  readonly bytes: Buffer;
}

export function reactionFrame(event: ReactionEvent): ReactionFrame {
  const frame: EventFrame = { type: 'event', event };
  return { event, bytes: Buffer.from(JSON.stringify(frame)) };
}

export function isReactionEvent(value: unknown): value is ReactionEvent {
  return (value as { type?: unknown } | null)?.type === 'reaction.changed';
}
