// What a message-store backup is checked against, computed while reading every document in _id order:
// the document count, a digest of the canonical EJSON of each document (type-exact: an int stays an
// int), the index definitions, and the newest message of each channel.
import { createHash, type Hash } from 'node:crypto';
import { BSON, type Db, type Document } from 'mongodb';
import type { MongoIndex, MongoInventory } from '../manifest.js';

export const toLine = (doc: Document): string => BSON.EJSON.stringify(doc, { relaxed: false });

/** Follows the documents of one collection in _id order. */
export class CollectionDigest {
  documents = 0;
  private readonly hash: Hash = createHash('sha256');
  add(line: string): void {
    this.documents++;
    this.hash.update(line).update('\n');
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Follows the `messages` collection: the highest seq per channel. */
export class LatestMessages {
  private readonly latest = new Map<string, { id: string; seq: number; body: string }>();
  add(doc: Document): void {
    const { channelId, seq, _id, body } = doc as {
      channelId?: unknown;
      seq?: unknown;
      _id: unknown;
      body?: unknown;
    };
    if (typeof channelId !== 'string' || typeof seq !== 'number') return;
    const current = this.latest.get(channelId);
    if (!current || seq > current.seq) {
      this.latest.set(channelId, { id: String(_id), seq, body: typeof body === 'string' ? body : '' });
    }
  }
  result(): MongoInventory['latestMessages'] {
    return [...this.latest.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([channelId, m]) => ({
        channelId,
        id: m.id,
        seq: m.seq,
        bodySha256: createHash('sha256').update(m.body).digest('hex'),
      }));
  }
}

interface IndexInfo {
  name: string;
  key: MongoIndex['key'];
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Record<string, unknown>;
  expireAfterSeconds?: number;
}

export async function indexesOf(db: Db, collection: string): Promise<MongoIndex[]> {
  const indexes = (await db.collection(collection).listIndexes().toArray()) as IndexInfo[];
  return indexes
    .map((i) => ({
      name: i.name,
      key: i.key,
      ...(i.unique ? { unique: true } : {}),
      ...(i.sparse ? { sparse: true } : {}),
      ...(i.partialFilterExpression ? { partialFilterExpression: i.partialFilterExpression } : {}),
      ...(typeof i.expireAfterSeconds === 'number' ? { expireAfterSeconds: i.expireAfterSeconds } : {}),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Reads a whole collection in _id order, calling `each` with the document and its canonical line. */
export async function scan(
  db: Db,
  collection: string,
  each: (doc: Document, line: string) => Promise<void> | void,
): Promise<void> {
  for await (const doc of db.collection(collection).find({}).sort({ _id: 1 })) {
    await each(doc, toLine(doc));
  }
}

/** The inventory of a live (or restored) database, read the same way the backup reads it. */
export async function readInventory(db: Db, collections: readonly string[]): Promise<MongoInventory> {
  const inventory: MongoInventory = { collections: {}, latestMessages: [] };
  const latest = new LatestMessages();
  for (const name of collections) {
    const digest = new CollectionDigest();
    await scan(db, name, (doc, line) => {
      digest.add(line);
      if (name === 'messages') latest.add(doc);
    });
    inventory.collections[name] = {
      documents: digest.documents,
      digest: digest.digest(),
      indexes: await indexesOf(db, name),
    };
  }
  inventory.latestMessages = latest.result();
  return inventory;
}
