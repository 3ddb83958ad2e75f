// The three steps over both stores: back up into a fresh directory with its manifest, restore a
// backup into fresh instances, verify restored instances against the manifest.
import { mkdirSync, readdirSync } from 'node:fs';
import { formatChecks, type Check } from './checks.js';
import { readManifest, writeManifest, type Manifest } from './manifest.js';
import { backupMongo } from './mongo/backup.js';
import { databaseName } from './mongo/connect.js';
import { restoreMongo } from './mongo/restore.js';
import { verifyMongo } from './mongo/verify.js';
import { backupPostgres } from './postgres/backup.js';
import { restorePostgres } from './postgres/restore.js';
import { verifyPostgres } from './postgres/verify.js';

export interface Targets {
  postgresUrl?: string;
  mongoUrl?: string;
  /** Default: the Mongo URL's database. */
  mongoDatabase?: string;
}

export async function backup(
  targets: Targets & { mongoTool?: 'node-driver' | 'mongodump' },
  dir: string,
): Promise<Manifest> {
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) throw new Error(`refusing to back up into ${dir}: it is not empty`);
  if (!targets.postgresUrl && !targets.mongoUrl)
    throw new Error('nothing to back up: give a PostgreSQL or MongoDB URL');
  const manifest: Manifest = { format: 1, createdAt: new Date().toISOString() };
  if (targets.postgresUrl) manifest.postgres = await backupPostgres(targets.postgresUrl, dir);
  if (targets.mongoUrl) {
    const database = databaseName(targets.mongoUrl, targets.mongoDatabase);
    manifest.mongo = await backupMongo(targets.mongoUrl, database, dir, targets.mongoTool);
  }
  writeManifest(dir, manifest);
  return manifest;
}

export async function restore(dir: string, targets: Targets): Promise<void> {
  const manifest = readManifest(dir);
  if (manifest.postgres) {
    if (!targets.postgresUrl)
      throw new Error('the backup holds PostgreSQL: give the URL of a fresh database');
    await restorePostgres(dir, manifest.postgres.file, targets.postgresUrl);
  }
  if (manifest.mongo) {
    if (!targets.mongoUrl)
      throw new Error('the backup holds the message store: give the URL of a fresh MongoDB');
    const database = databaseName(targets.mongoUrl, targets.mongoDatabase, manifest.mongo.database);
    await restoreMongo(dir, manifest.mongo, targets.mongoUrl, database);
  }
}

export interface Verification {
  ok: boolean;
  checks: Check[];
  report: string;
}

export async function verify(dir: string, targets: Targets): Promise<Verification> {
  const manifest = readManifest(dir);
  const checks: Check[] = [];
  if (manifest.postgres) {
    if (!targets.postgresUrl)
      throw new Error('the backup holds PostgreSQL: give the URL of the restored database');
    checks.push(...(await verifyPostgres(manifest.postgres.inventory, targets.postgresUrl)));
  }
  if (manifest.mongo) {
    if (!targets.mongoUrl)
      throw new Error('the backup holds the message store: give the URL of the restored MongoDB');
    const database = databaseName(targets.mongoUrl, targets.mongoDatabase, manifest.mongo.database);
    checks.push(...(await verifyMongo(manifest.mongo.inventory, targets.mongoUrl, database)));
  }
  const failed = checks.filter((c) => !c.ok).length;
  const report = `${formatChecks(checks)}\n${checks.length - failed}/${checks.length} checks passed`;
  return { ok: failed === 0 && checks.length > 0, checks, report };
}
