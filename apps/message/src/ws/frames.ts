// Parsing of client frames: anything that is not a valid frame becomes an error frame, never a throw
// that reaches the socket handler (docs/protocol.md, "Client → server").
import { z } from 'zod';
import {
  clientMessageIdPattern,
  maxAckPositions,
  maxBodyLength,
  type ClientFrame,
} from '@chatcluster/message-sdk';

const channelId = z.string().uuid();
const schemas = {
  subscribe: z.object({
    type: z.literal('subscribe'),
    channelId,
    lastSeq: z.number().int().min(0).optional(),
    since: z.iso.datetime().optional(),
    epoch: z.string().min(1).max(64).optional(),
  }),
  unsubscribe: z.object({ type: z.literal('unsubscribe'), channelId }),
  send: z.object({
    type: z.literal('send'),
    channelId,
    clientMessageId: z.string().regex(clientMessageIdPattern),
    body: z.string().min(1).max(maxBodyLength),
  }),
  // Coalesced (one frame for every channel) or per channel.
  ack: z.union([
    z.object({
      type: z.literal('ack'),
      acks: z
        .array(z.object({ channelId, seq: z.number().int().min(0) }))
        .min(1)
        .max(maxAckPositions),
    }),
    z.object({ type: z.literal('ack'), channelId, seq: z.number().int().min(0) }),
  ]),
  ping: z.object({ type: z.literal('ping'), id: z.string().max(64).optional() }),
} as const;

export type FrameParse =
  | { ok: true; frame: ClientFrame }
  | {
      ok: false;
      code: 'MALFORMED_FRAME' | 'UNKNOWN_FRAME' | 'VALIDATION_FAILED';
      message: string;
      ref?: string;
    };

export function parseFrame(data: Buffer | string, isBinary: boolean): FrameParse {
  if (isBinary) return { ok: false, code: 'MALFORMED_FRAME', message: 'binary frames are not accepted' };
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return { ok: false, code: 'MALFORMED_FRAME', message: 'frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'MALFORMED_FRAME', message: 'frame must be a JSON object' };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(schemas, type)) {
    return {
      ok: false,
      code: 'UNKNOWN_FRAME',
      message: `unknown frame type ${JSON.stringify(type)}`.slice(0, 200),
    };
  }
  const result = schemas[type as keyof typeof schemas].safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const ref = (value as { clientMessageId?: unknown }).clientMessageId;
    return {
      ok: false,
      code: 'VALIDATION_FAILED',
      message: `${type}: ${issue ? `${issue.path.join('.') || 'frame'}: ${issue.message}` : 'invalid'}`,
      ...(typeof ref === 'string' ? { ref: ref.slice(0, 64) } : {}),
    };
  }
  return { ok: true, frame: result.data };
}
