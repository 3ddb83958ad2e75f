#!/usr/bin/env node
// Builds the local cluster's images and imports them into a containerd:
//   node tools/images/dist/src/cli.js build --containerd <socket> [--repository <repository>]
// Progress goes to stderr; the last line on stdout is the result as JSON ({ tag, images }).
import { parseArgs } from 'node:util';
import { buildAndImportImages, DEFAULT_REPOSITORY } from './build.js';

const usage = `usage: node tools/images/dist/src/cli.js build --containerd <socket> [--repository <repository>]
  Builds pause, coredns, auth, message, notification and operator and imports them into the
  containerd at <socket> (namespace k8s.io). The app images are named <repository>/<name>:<tag>
  (repository ${DEFAULT_REPOSITORY} unless given).`;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { containerd: { type: 'string' }, repository: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help || positionals.length !== 1 || positionals[0] !== 'build' || !values.containerd) {
    console.error(usage);
    process.exit(values.help ? 0 : 2);
  }
  const result = await buildAndImportImages({
    containerdSocket: values.containerd,
    ...(values.repository && { repository: values.repository }),
    log: (line) => console.error(`[images ${new Date().toTimeString().slice(0, 8)}] ${line}`),
  });
  console.log(JSON.stringify(result));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
