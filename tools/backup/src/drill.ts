// A restore drill on one machine: back up the live stores, start an isolated PostgreSQL and an
// isolated MongoDB-wire server (FerretDB) from the test harness on free loopback ports, restore into
// them, verify, and stop them. Proves a backup restores, without touching anything live.
import { startFerretDB, startPostgres } from '@chatcluster/harness';
import { backup, restore, verify, type Targets, type Verification } from './operations.js';

export async function drill(
  targets: Targets,
  dir: string,
  progress: (line: string) => void = () => undefined,
): Promise<Verification> {
  progress(`backing up into ${dir}`);
  const manifest = await backup(targets, dir);
  progress('starting isolated instances to restore into');
  const [postgres, mongo] = await Promise.all([
    manifest.postgres ? startPostgres({ database: 'restore_drill' }) : undefined,
    manifest.mongo ? startFerretDB() : undefined,
  ]);
  try {
    const restored: Targets = {
      ...(postgres ? { postgresUrl: postgres.url } : {}),
      ...(mongo ? { mongoUrl: mongo.url, mongoDatabase: manifest.mongo!.database } : {}),
    };
    progress('restoring');
    await restore(dir, restored);
    progress('verifying');
    return await verify(dir, restored);
  } finally {
    await Promise.all([postgres?.stop(), mongo?.stop()]);
  }
}
