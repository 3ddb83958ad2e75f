// Verifies a restored message store against the backup's manifest: per collection the document count,
// the content digest and every index (name, keys, uniqueness), and the newest message of each channel
// read the way the service reads it (by channel, highest seq first, through the channel_seq index).
import { createHash } from 'node:crypto';
import { check, type Check } from '../checks.js';
import type { MongoInventory } from '../manifest.js';
import { withDatabase } from './connect.js';
import { readInventory } from './inventory.js';

export async function verifyMongo(expected: MongoInventory, url: string, database: string): Promise<Check[]> {
  return withDatabase(url, database, async (db) => {
    const actual = await readInventory(db, Object.keys(expected.collections));
    const checks: Check[] = [];
    for (const [name, want] of Object.entries(expected.collections)) {
      const got = actual.collections[name]!;
      checks.push(check('mongo', `collection ${name}: documents`, want.documents, got.documents));
      checks.push(check('mongo', `collection ${name}: content digest`, want.digest, got.digest));
      for (const index of want.indexes) {
        const found = got.indexes.find((i) => i.name === index.name);
        checks.push(
          check(
            'mongo',
            `collection ${name}: index ${index.name}`,
            { key: index.key, unique: index.unique ?? false },
            found ? { key: found.key, unique: found.unique ?? false } : 'missing',
          ),
        );
      }
    }
    for (const latest of expected.latestMessages) {
      const doc = await db
        .collection('messages')
        .findOne({ channelId: latest.channelId }, { sort: { seq: -1 } });
      const seen = doc && {
        id: String(doc._id),
        seq: doc.seq as number,
        bodySha256: createHash('sha256')
          .update(typeof doc.body === 'string' ? doc.body : '')
          .digest('hex'),
      };
      checks.push(
        check(
          'mongo',
          `channel ${latest.channelId}: latest message`,
          { id: latest.id, seq: latest.seq, bodySha256: latest.bodySha256 },
          seen ?? 'no message',
        ),
      );
    }
    return checks;
  });
}
