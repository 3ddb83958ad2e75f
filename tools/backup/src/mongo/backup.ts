// Message-store backup. Default: the Node driver exports each collection to `<collection>.jsonl`
// (one canonical-EJSON document per line, in _id order) plus its index definitions, measuring the
// inventory from the very documents written, so the manifest matches the files exactly. With real
// MongoDB tooling (`--mongo-tool mongodump`) mongodump writes a gzip archive instead, and the
// inventory is read from the database right before: consistent only when writes are stopped.
import { createWriteStream, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { run } from '../exec.js';
import type { Manifest } from '../manifest.js';
import { collectionNames, withDatabase } from './connect.js';
import { CollectionDigest, LatestMessages, indexesOf, readInventory, scan } from './inventory.js';

export const MONGO_DIR = 'mongo';
export const MONGO_ARCHIVE = 'mongo.archive.gz';

async function exportWithDriver(
  url: string,
  database: string,
  dir: string,
): Promise<NonNullable<Manifest['mongo']>> {
  mkdirSync(join(dir, MONGO_DIR), { recursive: true });
  return withDatabase(url, database, async (db) => {
    const inventory: NonNullable<Manifest['mongo']>['inventory'] = { collections: {}, latestMessages: [] };
    const latest = new LatestMessages();
    for (const name of await collectionNames(db)) {
      const out = createWriteStream(join(dir, MONGO_DIR, `${name}.jsonl`));
      const digest = new CollectionDigest();
      await scan(db, name, async (doc, line) => {
        digest.add(line);
        if (name === 'messages') latest.add(doc);
        if (!out.write(`${line}\n`)) await once(out, 'drain');
      });
      out.end();
      await once(out, 'finish');
      inventory.collections[name] = {
        documents: digest.documents,
        digest: digest.digest(),
        indexes: await indexesOf(db, name),
      };
    }
    inventory.latestMessages = latest.result();
    return { tool: 'node-driver', path: MONGO_DIR, database, inventory };
  });
}

async function exportWithMongodump(
  url: string,
  database: string,
  dir: string,
): Promise<NonNullable<Manifest['mongo']>> {
  const inventory = await withDatabase(url, database, async (db) =>
    readInventory(db, await collectionNames(db)),
  );
  await run('mongodump', [
    `--uri=${url}`,
    `--db=${database}`,
    `--archive=${join(dir, MONGO_ARCHIVE)}`,
    '--gzip',
  ]);
  return { tool: 'mongodump', path: MONGO_ARCHIVE, database, inventory };
}

export function backupMongo(
  url: string,
  database: string,
  dir: string,
  tool: 'node-driver' | 'mongodump' = 'node-driver',
): Promise<NonNullable<Manifest['mongo']>> {
  return tool === 'mongodump'
    ? exportWithMongodump(url, database, dir)
    : exportWithDriver(url, database, dir);
}
