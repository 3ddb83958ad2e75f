// Message-store restore into a fresh database (one that already holds documents is refused): the
// documents of each collection in batches, then its indexes (faster than indexing while inserting, as
// mongorestore does); or mongorestore for an archive made by mongodump.
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BSON, type Db, type Document } from 'mongodb';
import { run } from '../exec.js';
import type { Manifest } from '../manifest.js';
import { collectionNames, withDatabase } from './connect.js';

const BATCH = 1_000;

async function assertEmpty(db: Db): Promise<void> {
  for (const name of await collectionNames(db)) {
    if ((await db.collection(name).estimatedDocumentCount()) > 0) {
      throw new Error(
        `refusing to restore: ${db.databaseName}.${name} already holds documents (restore into a fresh database)`,
      );
    }
  }
}

async function importCollection(db: Db, file: string, name: string): Promise<void> {
  const collection = db.collection(name);
  await db.createCollection(name).catch((err: { codeName?: string }) => {
    if (err.codeName !== 'NamespaceExists') throw err;
  });
  let batch: Document[] = [];
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line === '') continue;
    batch.push(BSON.EJSON.parse(line, { relaxed: false }) as Document);
    if (batch.length >= BATCH) {
      await collection.insertMany(batch, { ordered: true });
      batch = [];
    }
  }
  if (batch.length > 0) await collection.insertMany(batch, { ordered: true });
}

export async function restoreMongo(
  dir: string,
  backup: NonNullable<Manifest['mongo']>,
  url: string,
  database: string,
): Promise<void> {
  await withDatabase(url, database, assertEmpty);
  if (backup.tool === 'mongodump') {
    await run('mongorestore', [
      `--uri=${url}`,
      `--archive=${join(dir, backup.path)}`,
      '--gzip',
      `--nsFrom=${backup.database}.*`,
      `--nsTo=${database}.*`,
    ]);
    return;
  }
  await withDatabase(url, database, async (db) => {
    for (const [name, { indexes }] of Object.entries(backup.inventory.collections)) {
      await importCollection(db, join(dir, backup.path, `${name}.jsonl`), name);
      const secondary = indexes.filter((i) => i.name !== '_id_');
      if (secondary.length === 0) continue;
      await db
        .collection(name)
        .createIndexes(
          secondary.map(({ key, ...options }) => ({ key: key as Record<string, 1 | -1>, ...options })),
        );
    }
  });
}
