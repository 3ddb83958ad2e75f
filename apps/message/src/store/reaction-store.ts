// Reactions, one small document per (message, user, emoji), written without a lock. FerretDB v1
// reads and writes an update separately (20 concurrent `$addToSet` on one document keep a few), but
// two operations are atomic on it and on MongoDB alike: inserting a document against a unique index
// and deleting one document by its exact `_id`. A reaction is exactly that: its `_id` names the
// (message, user, emoji), so adding is an insert (a repeat hits the `_id` and changes nothing) and
// removing is a delete by `_id`. Counts are read from these documents, never kept in the message.
//
// Caps (distinct keys per message, keys per user per message) are checked after the insert, on a
// read that includes it: over a cap, the insert is deleted again and refused. Of racing inserts,
// the last one to read sees every kept one, so the caps hold; at the edge a racer may be refused
// while another one that is refused too was still present (the client may simply try again).
import type { mongo } from 'mongoose';
import type { ReactionMap } from '@chatcluster/message-sdk';
import { msgErrors } from '../errors.js';
import { isDuplicateKey, type StoreGuard } from './guard.js';

export interface ReactionDoc {
  /** `<messageId>/<userId>/<emoji>`: unique per reaction, which is what makes adding atomic. */
  _id: string;
  messageId: string;
  channelId: string;
  seq: number;
  userId: string;
  emoji: string;
  at: Date;
}

export const REACTIONS_COLLECTION = 'message_reactions';

export interface ReactionLimits {
  /** Distinct reaction keys on one message. */
  keysPerMessage: number;
  /** Reaction keys one user put on one message. */
  keysPerUser: number;
}
export const defaultReactionLimits: ReactionLimits = { keysPerMessage: 50, keysPerUser: 20 };

/** The message a reaction is about. */
export interface ReactionTarget {
  messageId: string;
  channelId: string;
  seq: number;
}

export interface ReactionChange {
  /** False when the reaction was already there (add) or already gone (remove). */
  changed: boolean;
  /** Users with this emoji on this message after the change. */
  count: number;
}

export const reactionIdOf = (messageId: string, userId: string, emoji: string): string =>
  `${messageId}/${userId}/${emoji}`;

/** Creates the collection and the index reads go by (idempotent). */
export async function ensureReactionIndexes(collection: mongo.Collection<ReactionDoc>): Promise<void> {
  await collection.createIndex({ messageId: 1 }, { name: 'reaction_message' });
}

export class ReactionStore {
  readonly #limits: ReactionLimits;

  constructor(
    private readonly collection: mongo.Collection<ReactionDoc>,
    private readonly guard: StoreGuard,
    limits: Partial<ReactionLimits> = {},
  ) {
    this.#limits = { ...defaultReactionLimits, ...limits };
  }

  async add(target: ReactionTarget, userId: string, emoji: string): Promise<ReactionChange> {
    const doc: ReactionDoc = {
      _id: reactionIdOf(target.messageId, userId, emoji),
      ...target,
      userId,
      emoji,
      at: new Date(),
    };
    let changed = true;
    try {
      await this.guard.run('add reaction', () => this.collection.insertOne(doc));
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      changed = false;
    }
    const all = await this.#of(target.messageId);
    if (changed) {
      const refusal = this.#overCap(all, userId);
      if (refusal) {
        await this.guard.run('withdraw reaction', () => this.collection.deleteOne({ _id: doc._id }));
        throw refusal;
      }
    }
    return { changed, count: all.filter((r) => r.emoji === emoji).length };
  }

  async remove(target: ReactionTarget, userId: string, emoji: string): Promise<ReactionChange> {
    const _id = reactionIdOf(target.messageId, userId, emoji);
    const result = await this.guard.run('remove reaction', () => this.collection.deleteOne({ _id }));
    const all = await this.#of(target.messageId);
    return { changed: result.deletedCount > 0, count: all.filter((r) => r.emoji === emoji).length };
  }

  /** emoji -> user ids, per message id (messages without reactions are absent). */
  async forMessages(messageIds: readonly string[]): Promise<Map<string, ReactionMap>> {
    const byMessage = new Map<string, ReactionMap>();
    if (messageIds.length === 0) return byMessage;
    const docs = await this.guard.run('read reactions', () =>
      this.collection
        .find(
          { messageId: { $in: [...messageIds] } },
          { projection: { messageId: 1, userId: 1, emoji: 1, at: 1 } },
        )
        .toArray(),
    );
    // In the order they were made, so the first key added is shown first.
    docs.sort((a, b) => a.at.getTime() - b.at.getTime());
    for (const r of docs) {
      let map = byMessage.get(r.messageId);
      if (!map) byMessage.set(r.messageId, (map = {}));
      (map[r.emoji] ??= []).push(r.userId);
    }
    return byMessage;
  }

  /** A deleted message keeps no reactions. */
  async removeForMessages(messageIds: readonly string[]): Promise<void> {
    if (messageIds.length === 0) return;
    await this.guard.run('remove reactions', () =>
      this.collection.deleteMany({ messageId: { $in: [...messageIds] } }),
    );
  }

  #of(messageId: string): Promise<Pick<ReactionDoc, 'userId' | 'emoji'>[]> {
    return this.guard.run('read reactions', () =>
      this.collection.find({ messageId }, { projection: { _id: 0, userId: 1, emoji: 1 } }).toArray(),
    );
  }

  #overCap(all: readonly Pick<ReactionDoc, 'userId' | 'emoji'>[], userId: string): Error | null {
    const { keysPerMessage, keysPerUser } = this.#limits;
    if (all.filter((r) => r.userId === userId).length > keysPerUser) {
      return msgErrors.MSG_USER_REACTION_LIMIT(
        `a user may put at most ${keysPerUser} different reactions on one message`,
        { details: { limit: keysPerUser } },
      );
    }
    if (new Set(all.map((r) => r.emoji)).size > keysPerMessage) {
      return msgErrors.MSG_REACTION_LIMIT(
        `a message may carry at most ${keysPerMessage} different reactions`,
        { details: { limit: keysPerMessage } },
      );
    }
    return null;
  }
}
