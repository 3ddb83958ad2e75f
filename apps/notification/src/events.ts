// The entries of chat:notify as the message service writes them (docs/architecture.md), parsed and
// checked before anything acts on them: a bad entry becomes a reason for the dead-letter stream.
import { z } from 'zod';

export const providers = ['fcm', 'sendgrid'] as const;
export type ProviderName = (typeof providers)[number];

/** Only a replayed dead letter carries these: the one delivery to retry. */
export interface ReplayTarget {
  /** Id of the dead letter being replayed. */
  readonly of: string;
  readonly recipient: string;
  readonly provider: ProviderName;
  /** Device id for push; `email` for e-mail. */
  readonly target: string;
  /** How many times this delivery has been replayed, this time included. */
  readonly count: number;
}

export interface MessageCreated {
  readonly type: 'message.created';
  readonly messageId: string;
  readonly channelId: string;
  readonly seq: number;
  readonly senderId: string;
  readonly preview: string;
  readonly createdAt: string;
  readonly replay?: ReplayTarget;
}

export type ParsedEntry =
  | { readonly ok: true; readonly event: MessageCreated }
  | { readonly ok: false; readonly reason: 'malformed' | 'unsupported_type'; readonly detail: string };

// Ids end up in Redis key names, so they are restricted to a safe alphabet.
const id = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'expected an id of letters, digits, - or _');
const uuid = z.uuid();

const messageCreated = z.object({
  type: z.literal('message.created'),
  messageId: id,
  channelId: uuid,
  seq: z
    .string()
    .regex(/^\d{1,15}$/, 'expected a non-negative integer')
    .transform(Number),
  senderId: uuid,
  preview: z.string().max(1000),
  createdAt: z.iso.datetime({ offset: true }),
  replayOf: z.string().optional(),
  replayRecipient: uuid.optional(),
  replayProvider: z.enum(providers).optional(),
  replayTarget: z.string().max(64).optional(),
  replayCount: z
    .string()
    .regex(/^\d{1,6}$/)
    .transform(Number)
    .optional(),
});

/** Fields of a stream entry (XREADGROUP gives a flat [field, value, ...] list) as a record; a repeated field keeps its first value. */
export function fieldsToRecord(fields: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!;
    if (!(name in record)) record[name] = fields[i + 1]!;
  }
  return record;
}

export function parseEntry(fields: Readonly<Record<string, string>>): ParsedEntry {
  const type = fields['type'];
  if (type === undefined) return { ok: false, reason: 'malformed', detail: 'type: required' };
  if (type !== 'message.created') {
    return { ok: false, reason: 'unsupported_type', detail: `type ${JSON.stringify(type.slice(0, 64))}` };
  }
  const result = messageCreated.safeParse(fields);
  if (!result.success) {
    const detail = result.error.issues
      .map((issue) => `${issue.path.map(String).join('.') || '(entry)'}: ${issue.message}`)
      .join('; ');
    return { ok: false, reason: 'malformed', detail };
  }
  const f = result.data;
  const replayParts = [f.replayOf, f.replayRecipient, f.replayProvider];
  if (replayParts.some((p) => p !== undefined) && replayParts.some((p) => p === undefined)) {
    return {
      ok: false,
      reason: 'malformed',
      detail: 'replayOf, replayRecipient and replayProvider go together',
    };
  }
  const event: MessageCreated = {
    type: f.type,
    messageId: f.messageId,
    channelId: f.channelId,
    seq: f.seq,
    senderId: f.senderId,
    preview: f.preview,
    createdAt: f.createdAt,
    ...(f.replayOf && f.replayRecipient && f.replayProvider
      ? {
          replay: {
            of: f.replayOf,
            recipient: f.replayRecipient,
            provider: f.replayProvider,
            target: f.replayTarget ?? '',
            count: f.replayCount ?? 1,
          },
        }
      : {}),
  };
  return { ok: true, event };
}
