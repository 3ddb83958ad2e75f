// Events as published and delivered: built from the stored document, so every event carries the
// whole current message and its version (docs/protocol.md, "Events").
import type { MessageEvent, MessageEventType } from '@chatcluster/message-sdk';
import { messageEventTypes } from '@chatcluster/message-sdk';
import type { MessageDoc } from '../store/models.js';
import { toView } from '../store/message-store.js';

export function eventFromDoc(doc: MessageDoc): MessageEvent {
  const type = (messageEventTypes as readonly string[]).includes(doc.lastEvent)
    ? (doc.lastEvent as MessageEventType)
    : 'message.created';
  return {
    type,
    channelId: doc.channelId,
    seq: doc.seq,
    version: doc.version,
    at: doc.updatedAt.toISOString(),
    message: toView(doc),
  };
}

/** The newer of two events about the same message. */
export function newer(a: MessageEvent | undefined, b: MessageEvent): MessageEvent {
  return a && a.version >= b.version ? a : b;
}
