// Mongoose schemas, written for real MongoDB and limited to what FerretDB v1 also supports (no TTL
// indexes, transactions or change streams; see docs/protocol.md for how ordering works without them).
import { Schema, type Connection, type Model } from 'mongoose';
import { ensureLockIndex, LOCKS_COLLECTION, type LeaseDoc } from './message-lock.js';
import { ensureReactionIndexes, REACTIONS_COLLECTION, type ReactionDoc } from './reaction-store.js';

export interface MessageDoc {
  _id: string;
  channelId: string;
  seq: number;
  senderId: string;
  clientMessageId: string;
  body: string;
  /** SHA-256 of the body as sent: repeats are compared with it, also after an edit or delete. */
  bodyHash?: string;
  createdAt: Date;
  updatedAt: Date;
  editedAt: Date | null;
  deletedAt: Date | null;
  /** 1 at creation, +1 per change. */
  version: number;
  /** The event type of the change that made `version`. */
  lastEvent: string;
  /** A sealed hole: the seq was allocated but never used. */
  hole?: boolean;
}

const messageSchema = new Schema<MessageDoc>(
  {
    _id: { type: String, required: true },
    channelId: { type: String, required: true },
    seq: { type: Number, required: true },
    senderId: { type: String, required: true },
    clientMessageId: { type: String, required: true },
    body: { type: String, default: '' },
    bodyHash: { type: String },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    editedAt: { type: Date, default: null },
    deletedAt: { type: Date, default: null },
    version: { type: Number, required: true },
    lastEvent: { type: String, required: true },
    hole: { type: Boolean },
  },
  { versionKey: false, minimize: false, collection: 'messages', autoIndex: false },
);
// One document and four index entries per message: `_id` (computed from channel and seq, so it is
// also the (channel, seq) uniqueness), the idempotency key, (channel, seq) for every ranged read
// (history pages, replay after a seq: `_id` is a hash, so it orders nothing), and the change index
// replays of edits read. FerretDB v1 has no partial indexes, which could have kept unedited messages
// out of the last one.
messageSchema.index(
  { channelId: 1, clientMessageId: 1 },
  { unique: true, name: 'channel_client_message_id' },
);
messageSchema.index({ channelId: 1, seq: 1 }, { name: 'channel_seq' });
messageSchema.index({ channelId: 1, updatedAt: 1 }, { name: 'channel_updated' });

/** A channel's counter (`_id` is the channel id): `seq` is its last allocated message seq. */
export interface CounterDoc {
  _id: string;
  seq: number;
}
const counterSchema = new Schema<CounterDoc>(
  { _id: { type: String, required: true }, seq: { type: Number, default: 0 } },
  { versionKey: false, collection: 'channel_counters', autoIndex: false },
);

/** Channels auth reported deleted (`channel.deleted`); their messages are no longer served. */
export interface DeletedChannelDoc {
  _id: string;
  deletedAt: Date;
  authSeq: number;
}
const deletedChannelSchema = new Schema<DeletedChannelDoc>(
  {
    _id: { type: String, required: true },
    deletedAt: { type: Date, required: true },
    authSeq: { type: Number, required: true },
  },
  { versionKey: false, collection: 'deleted_channels', autoIndex: false },
);

/**
 * An outbox entry of a change (edit, delete, reaction; new messages have none: the message log is
 * their outbox): written just before the change is stored, deleted once it is published. The
 * relay republishes what an entry older than OUTBOX_SWEEP_MS still names.
 */
export interface OutboxEntryDoc {
  _id: string;
  /** When the change was made. */
  at: Date;
  /** Message `_id`s. */
  ids: string[];
}
const outboxEntrySchema = new Schema<OutboxEntryDoc>(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    ids: { type: [String], default: [] },
  },
  { versionKey: false, collection: 'message_outbox', autoIndex: false },
);

export interface Models {
  messages: Model<MessageDoc>;
  outbox: Model<OutboxEntryDoc>;
  counters: Model<CounterDoc>;
  deletedChannels: Model<DeletedChannelDoc>;
}

export function createModels(connection: Connection): Models {
  return {
    messages: connection.model<MessageDoc>('Message', messageSchema),
    outbox: connection.model<OutboxEntryDoc>('OutboxEntry', outboxEntrySchema),
    counters: connection.model<CounterDoc>('ChannelCounter', counterSchema),
    deletedChannels: connection.model<DeletedChannelDoc>('DeletedChannel', deletedChannelSchema),
  };
}

/** Creates the indexes and collections (idempotent); run at start. */
export async function ensureIndexes(models: Models): Promise<void> {
  await models.messages.createIndexes();
  // Indexes of earlier versions that nothing queries any more: each cost a write per message.
  for (const name of ['outbox', 'deleted']) {
    await models.messages.collection.dropIndex(name).catch((err: unknown) => {
      const code = (err as { code?: unknown }).code;
      // IndexNotFound, NamespaceNotFound (FerretDB words some of them differently).
      if (code !== 27 && code !== 26 && !/not found|does not exist/i.test(String(err))) throw err;
    });
  }
  await ensureLockIndex(models.messages.db.collection<LeaseDoc>(LOCKS_COLLECTION));
  await ensureReactionIndexes(models.messages.db.collection<ReactionDoc>(REACTIONS_COLLECTION));
  // Created up front: FerretDB creates a collection's table on the first write, which then waits.
  for (const model of [models.outbox, models.counters]) {
    await model.createCollection().catch((err: unknown) => {
      if ((err as { code?: unknown }).code !== 48) throw err; // NamespaceExists
    });
  }
}
