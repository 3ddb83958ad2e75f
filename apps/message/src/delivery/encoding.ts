// Each event is encoded once per instance: the JSON published to Redis, and one WebSocket frame
// shared by every local recipient (written to each socket as it is). An event that came from Redis
// keeps the bytes it arrived in, so it is never re-encoded.
import type { MessageEvent } from '@chatcluster/message-sdk';
import { textFrame } from '../ws/wire-frame.js';

interface Encoded {
  /** The event's JSON, as published (or as it arrived). */
  json?: Buffer;
  /** The `event` frames, whole WebSocket frames (the payload alone is not kept: a ring holds many). */
  created?: Buffer;
  mutation?: Buffer;
}

const encodings = new WeakMap<MessageEvent, Encoded>();
const frameHead = Buffer.from('{"type":"event","event":');
const frameTail = Buffer.from('}');

function entryOf(event: MessageEvent): Encoded {
  let entry = encodings.get(event);
  if (!entry) encodings.set(event, (entry = {}));
  return entry;
}

/** The event's JSON: encoded the first time it is asked for, then shared. */
export function encodedEvent(event: MessageEvent): Buffer {
  const entry = entryOf(event);
  return (entry.json ??= Buffer.from(JSON.stringify(event)));
}

/** `event` was parsed from `json` (a Redis payload): its frames are built from these bytes. */
export function adoptEncoding(event: MessageEvent, json: Buffer): void {
  entryOf(event).json = json;
}

/**
 * The `event` frame's payload for `event`. A creation delivered with a later version (an edit that
 * arrived before the message was dispatched) is still shown as `message.created`, the first time the
 * subscriber sees it.
 */
export function eventFrame(event: MessageEvent, kind: 'created' | 'mutation'): Buffer {
  const json =
    kind === 'created' && event.type !== 'message.created'
      ? Buffer.from(JSON.stringify({ ...event, type: 'message.created' }))
      : encodedEvent(event);
  return Buffer.concat([frameHead, json, frameTail]);
}

/** `eventFrame` as a whole WebSocket frame (header included), built once: one buffer for every recipient. */
export function eventWireFrame(event: MessageEvent, kind: 'created' | 'mutation'): Buffer {
  const entry = entryOf(event);
  return (entry[kind] ??= textFrame(eventFrame(event, kind)));
}
