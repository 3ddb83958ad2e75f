// Connecting to the message store: the database is the one named explicitly, else the URL's path (as
// the message service reads it), else a fallback: the driver's default `test`, or on restore and
// verify the backed-up database's name.
import { MongoClient, type Db } from 'mongodb';

export function databaseName(url: string, explicit?: string, fallback = 'test'): string {
  if (explicit) return explicit;
  const path = new URL(url).pathname.replace(/^\//, '');
  return path === '' ? fallback : decodeURIComponent(path);
}

export async function withDatabase<T>(url: string, database: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  await client.connect();
  try {
    return await fn(client.db(database));
  } finally {
    await client.close();
  }
}

/** User collections (not system.*), sorted. */
export async function collectionNames(db: Db): Promise<string[]> {
  const collections = await db.listCollections({}, { nameOnly: true }).toArray();
  return collections
    .map((c) => c.name)
    .filter((name) => !name.startsWith('system.'))
    .sort();
}
