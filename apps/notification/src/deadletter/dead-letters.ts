// The dead-letter stream chat:notify:dead: deliveries given up on (with the reason and every call's
// outcome) and entries that could not be understood. Operators list, replay and purge them with
// chatcluster-notify-dlq; a replay goes back through chat:notify and all of its safeguards.
import type { Redis } from 'ioredis';
import { fieldsToRecord, type MessageCreated, type ProviderName } from '../events.js';
import type { AttemptRecord } from '../delivery/guarded-provider.js';

export type DeadLetterKind = 'delivery' | 'event';

export interface DeadLetter {
  /** Id in the dead-letter stream. */
  readonly id: string;
  readonly kind: DeadLetterKind;
  readonly reason: string;
  /** `none` for events. */
  readonly provider: ProviderName | 'none';
  readonly recipient: string;
  readonly target: string;
  readonly messageId: string;
  readonly error: string;
  readonly code: string;
  readonly attempts: readonly AttemptRecord[];
  /** Id of the chat:notify entry it came from. */
  readonly entryId: string;
  readonly deadAt: string;
  /** How many times it was replayed before. */
  readonly replays: number;
  /** Every stored field, as written. */
  readonly fields: Readonly<Record<string, string>>;
}

export interface DeadLetterFilter {
  readonly ids?: readonly string[];
  readonly reason?: string;
  readonly provider?: string;
  readonly kind?: DeadLetterKind;
  /** Only dead letters older than this many ms. */
  readonly olderThanMs?: number;
}

export interface DeadLetterStreams {
  readonly stream: string;
  readonly deadStream: string;
}

const eventFields = ['type', 'messageId', 'channelId', 'seq', 'senderId', 'preview', 'createdAt'] as const;

function msOfId(id: string): number {
  return Number(id.split('-')[0]);
}

export class DeadLetters {
  constructor(
    private readonly redis: Redis,
    private readonly streams: DeadLetterStreams,
  ) {}

  /** A delivery given up on; returns the dead letter's id. */
  async addDelivery(input: {
    entryId: string;
    event: MessageCreated;
    provider: ProviderName;
    recipient: string;
    target: string;
    reason: string;
    error: string;
    code?: string;
    attempts: readonly AttemptRecord[];
  }): Promise<string> {
    const { event } = input;
    const fields: Record<string, string> = {
      kind: 'delivery',
      reason: input.reason,
      provider: input.provider,
      recipient: input.recipient,
      target: input.target,
      error: input.error.slice(0, 1000),
      code: input.code ?? '',
      attempts: JSON.stringify(input.attempts),
      entryId: input.entryId,
      deadAt: new Date().toISOString(),
      replays: String(event.replay?.count ?? 0),
      type: event.type,
      messageId: event.messageId,
      channelId: event.channelId,
      seq: String(event.seq),
      senderId: event.senderId,
      preview: event.preview,
      createdAt: event.createdAt,
    };
    return (await this.redis.xadd(this.streams.deadStream, '*', ...Object.entries(fields).flat()))!;
  }

  /** An entry that cannot be processed as it is; its fields are kept verbatim for a replay. */
  async addEvent(input: {
    entryId: string;
    fields: Readonly<Record<string, string>>;
    reason: string;
    error: string;
  }): Promise<string> {
    const fields: Record<string, string> = {
      kind: 'event',
      reason: input.reason,
      provider: 'none',
      error: input.error.slice(0, 1000),
      attempts: '[]',
      entryId: input.entryId,
      deadAt: new Date().toISOString(),
      raw: JSON.stringify(input.fields),
      messageId: input.fields['messageId']?.slice(0, 128) ?? '',
    };
    return (await this.redis.xadd(this.streams.deadStream, '*', ...Object.entries(fields).flat()))!;
  }

  /** Oldest first; `count` bounds the answer after filtering. */
  async list(filter: DeadLetterFilter = {}, count = Number.POSITIVE_INFINITY): Promise<DeadLetter[]> {
    const found: DeadLetter[] = [];
    if (filter.ids) {
      for (const id of filter.ids) {
        const [entry] = await this.redis.xrange(this.streams.deadStream, id, id);
        if (entry) found.push(toDeadLetter(entry[0], entry[1]));
      }
      return found.filter((d) => matches(d, filter)).slice(0, count);
    }
    let start = '-';
    const end = filter.olderThanMs === undefined ? '+' : `${Date.now() - filter.olderThanMs}`;
    while (found.length < count) {
      const page = await this.redis.xrange(this.streams.deadStream, start, end, 'COUNT', 500);
      for (const [id, fields] of page) {
        const letter = toDeadLetter(id, fields);
        if (matches(letter, filter)) found.push(letter);
      }
      if (page.length < 500) break;
      start = `(${page[page.length - 1]![0]}`;
    }
    return found.slice(0, count);
  }

  /**
   * Puts each matching dead letter back on chat:notify and removes it from the dead-letter stream,
   * atomically per letter. A delivery comes back as its event restricted to that one delivery.
   * Returns the new entry ids.
   */
  async replay(filter: DeadLetterFilter): Promise<string[]> {
    const letters = await this.list(filter);
    const added: string[] = [];
    for (const letter of letters) {
      const fields = letter.kind === 'delivery' ? deliveryReplayFields(letter) : eventReplayFields(letter);
      const results = await this.redis
        .multi()
        .xadd(this.streams.stream, '*', ...Object.entries(fields).flat())
        .xdel(this.streams.deadStream, letter.id)
        .exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0]!;
      added.push(results![0]![1] as string);
    }
    return added;
  }

  /** Deletes matching dead letters; returns how many. */
  async purge(filter: DeadLetterFilter): Promise<number> {
    const ids = (await this.list(filter)).map((d) => d.id);
    let removed = 0;
    for (let i = 0; i < ids.length; i += 500) {
      removed += await this.redis.xdel(this.streams.deadStream, ...ids.slice(i, i + 500));
    }
    return removed;
  }

  /** Drops dead letters older than `retentionMs` (the retention operators did not act within). */
  async trim(retentionMs: number): Promise<number> {
    return this.redis.xtrim(this.streams.deadStream, 'MINID', `${Date.now() - retentionMs}-0`);
  }
}

function toDeadLetter(id: string, flat: string[]): DeadLetter {
  const f = fieldsToRecord(flat);
  let attempts: AttemptRecord[] = [];
  try {
    attempts = JSON.parse(f['attempts'] ?? '[]') as AttemptRecord[];
  } catch {
    attempts = [];
  }
  const provider = f['provider'];
  return {
    id,
    kind: f['kind'] === 'delivery' ? 'delivery' : 'event',
    reason: f['reason'] ?? '',
    provider: provider === 'fcm' || provider === 'sendgrid' ? provider : 'none',
    recipient: f['recipient'] ?? '',
    target: f['target'] ?? '',
    messageId: f['messageId'] ?? '',
    error: f['error'] ?? '',
    code: f['code'] ?? '',
    attempts,
    entryId: f['entryId'] ?? '',
    deadAt: f['deadAt'] ?? new Date(msOfId(id)).toISOString(),
    replays: Number(f['replays'] ?? 0),
    fields: f,
  };
}

function matches(d: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.reason !== undefined && d.reason !== filter.reason) return false;
  if (filter.provider !== undefined && d.provider !== filter.provider) return false;
  if (filter.kind !== undefined && d.kind !== filter.kind) return false;
  if (filter.olderThanMs !== undefined && msOfId(d.id) > Date.now() - filter.olderThanMs) return false;
  return true;
}

function deliveryReplayFields(d: DeadLetter): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const name of eventFields) fields[name] = d.fields[name] ?? '';
  fields['replayOf'] = d.id;
  fields['replayRecipient'] = d.recipient;
  fields['replayProvider'] = d.provider;
  fields['replayTarget'] = d.target;
  fields['replayCount'] = String(d.replays + 1);
  return fields;
}

function eventReplayFields(d: DeadLetter): Record<string, string> {
  try {
    const raw = JSON.parse(d.fields['raw'] ?? '{}') as Record<string, unknown>;
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) if (typeof value === 'string') fields[name] = value;
    // An entry needs at least one field; an empty one would be refused by XADD.
    return Object.keys(fields).length > 0 ? fields : { type: '' };
  } catch {
    return { type: '' };
  }
}
