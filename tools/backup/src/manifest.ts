// The manifest written beside every backup: what the backup holds, measured from the same snapshot
// (PostgreSQL) or from the exported documents themselves (MongoDB), so verification compares a
// restored copy against the backup, not against a live database that has moved on since.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MANIFEST_FILE = 'manifest.json';

export interface PostgresInventory {
  /** Table → row count and an order-independent digest of its rows' text. */
  tables: Record<string, { rows: number; digest: string }>;
  /** Index name → its definition (pg_indexes.indexdef). */
  indexes: Record<string, string>;
  /** Sequence → last_value (null when never used). */
  sequences: Record<string, string | null>;
  /** Users looked up by username after a restore. */
  sampleUsers: { id: string; username: string; email: string }[];
  /** Channels whose active member count is compared after a restore. */
  sampleChannels: { id: string; members: number }[];
}

export interface MongoIndex {
  name: string;
  key: Record<string, number | string>;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Record<string, unknown>;
  expireAfterSeconds?: number;
}

export interface MongoInventory {
  collections: Record<string, { documents: number; digest: string; indexes: MongoIndex[] }>;
  /** The newest message (highest seq) of each channel: what a client sees first. */
  latestMessages: { channelId: string; id: string; seq: number; bodySha256: string }[];
}

export interface Manifest {
  format: 1;
  createdAt: string;
  postgres?: {
    file: string;
    database: string;
    serverVersion: string;
    inventory: PostgresInventory;
  };
  mongo?: {
    tool: 'node-driver' | 'mongodump';
    /** node-driver: a directory of `<collection>.jsonl` (canonical EJSON) files; mongodump: an archive. */
    path: string;
    database: string;
    inventory: MongoInventory;
  };
}

export function writeManifest(dir: string, manifest: Manifest): void {
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

export function readManifest(dir: string): Manifest {
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as Manifest;
  if (manifest.format !== 1) throw new Error(`${dir}: unknown manifest format ${String(manifest.format)}`);
  return manifest;
}
