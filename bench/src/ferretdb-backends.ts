// FerretDB v1's backends compared on the service's own documents (issue 15, "The store in tests and
// the benchmark"): SQLite as the harness runs it, PostgreSQL durable (fsync and synchronous commit
// on) and PostgreSQL as the harness runs it for tests (no fsync). Each backend is measured alone,
// one after the other, in two shapes:
// - batched: the store's ceiling as `make bench` measures it (2 writers, batches of 128);
// - contended: 16 writers inserting batches of 4 into 10 channels, as many instances' small batches
//   at once.
// Usage: node bench/dist/src/ferretdb-backends.js [--seconds 10]
import { parseArgs } from 'node:util';
import { startFerretDB, startPostgres, type FerretDBServer, type PostgresServer } from '@chatcluster/harness';
import { measureStoreCeiling } from './store-ceiling.js';

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '10' } },
});
const seconds = Number(args.seconds);

const shapes = {
  batched: { batch: 128, writers: 2, channels: 100 },
  contended: { batch: 4, writers: 16, channels: 10 },
} as const;

type Backend = 'sqlite' | 'postgresql-fsync' | 'postgresql-nofsync';
const backends: Backend[] = ['sqlite', 'postgresql-fsync', 'postgresql-nofsync'];

async function start(backend: Backend): Promise<{ ferret: FerretDBServer; postgres?: PostgresServer }> {
  if (backend === 'sqlite') return { ferret: await startFerretDB({ backend: 'sqlite' }) };
  const durable = backend === 'postgresql-fsync';
  const postgres = await startPostgres({
    database: 'bench',
    // The harness's defaults turn durability off; the durable run turns it back on.
    settings: durable ? { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' } : {},
  });
  try {
    return { ferret: await startFerretDB({ backend: 'postgresql', postgres }), postgres };
  } catch (err) {
    await postgres.stop();
    throw err;
  }
}

const figures: Record<string, Record<string, number>> = {};
for (const backend of backends) {
  const { ferret, postgres } = await start(backend);
  try {
    for (const [shape, options] of Object.entries(shapes)) {
      const result = await measureStoreCeiling(`${ferret.url}bench-${shape}`, { seconds, ...options });
      (figures[backend] ??= {})[shape] = result.docsPerSec;
      console.log(`${backend} ${shape}: ${result.docsPerSec} documents/s`);
    }
  } finally {
    await ferret.stop();
    await postgres?.stop();
  }
}
console.log(JSON.stringify({ seconds, shapes, docsPerSec: figures }, null, 2));
