#!/usr/bin/env node
// chatcluster-backup: backup, restore, verify and drill for ChatCluster's PostgreSQL (auth) and
// message store (MongoDB). See docs/runbooks/backup-restore.md. URLs come from flags or from
// POSTGRES_URL / MONGO_URL; a store without a URL is skipped.
import { parseArgs } from 'node:util';
import { redact } from './exec.js';
import { drill } from './drill.js';
import { backup, restore, verify, type Targets } from './operations.js';

const usage = `usage:
  chatcluster-backup backup  --out DIR  [--postgres-url URL] [--mongo-url URL] [--mongo-database NAME] [--mongo-tool node-driver|mongodump]
  chatcluster-backup restore --from DIR [--postgres-url URL] [--mongo-url URL] [--mongo-database NAME]   (into fresh, empty instances)
  chatcluster-backup verify  --from DIR [--postgres-url URL] [--mongo-url URL] [--mongo-database NAME]   (exit 1 when a check fails)
  chatcluster-backup drill   --out DIR  [--postgres-url URL] [--mongo-url URL] [--mongo-database NAME]   (backup, restore into isolated local instances, verify)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      from: { type: 'string' },
      'postgres-url': { type: 'string' },
      'mongo-url': { type: 'string' },
      'mongo-database': { type: 'string' },
      'mongo-tool': { type: 'string' },
    },
  });
  const targets: Targets = {};
  const postgresUrl = values['postgres-url'] ?? process.env.POSTGRES_URL;
  const mongoUrl = values['mongo-url'] ?? process.env.MONGO_URL;
  if (postgresUrl) targets.postgresUrl = postgresUrl;
  if (mongoUrl) targets.mongoUrl = mongoUrl;
  if (values['mongo-database']) targets.mongoDatabase = values['mongo-database'];
  const tool = values['mongo-tool'] ?? 'node-driver';
  if (tool !== 'node-driver' && tool !== 'mongodump') {
    console.error(`--mongo-tool: expected node-driver or mongodump, got ${tool}`);
    return 2;
  }
  const progress = (line: string) => console.log(line);
  switch (positionals[0]) {
    case 'backup': {
      if (!values.out) break;
      const manifest = await backup({ ...targets, mongoTool: tool }, values.out);
      for (const [table, t] of Object.entries(manifest.postgres?.inventory.tables ?? {})) {
        console.log(`postgres ${table}: ${t.rows} rows`);
      }
      for (const [name, c] of Object.entries(manifest.mongo?.inventory.collections ?? {})) {
        console.log(`mongo    ${name}: ${c.documents} documents`);
      }
      console.log(`backup written to ${values.out}`);
      return 0;
    }
    case 'restore':
      if (!values.from) break;
      await restore(values.from, targets);
      console.log(
        `restored ${values.from}; now run: chatcluster-backup verify --from ${values.from} with the same URLs`,
      );
      return 0;
    case 'verify': {
      if (!values.from) break;
      const result = await verify(values.from, targets);
      console.log(result.report);
      return result.ok ? 0 : 1;
    }
    case 'drill': {
      if (!values.out) break;
      const result = await drill(targets, values.out, progress);
      console.log(result.report);
      return result.ok ? 0 : 1;
    }
  }
  console.error(usage);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`chatcluster-backup: ${redact(err instanceof Error ? err.message : String(err))}`);
    process.exit(1);
  },
);
