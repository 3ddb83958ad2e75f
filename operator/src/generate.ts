// Writes the generated files: the ChatCluster CRD (crds/ and the Helm chart) from
// api/chatcluster-crd.ts, and the platform SLO definitions embedded for the operator.
// Run after changing either: `npx tsc -b operator && node operator/dist/src/generate.js`.
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from './generated-files.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
for (const [path, text] of await generatedFiles(repoRoot)) {
  writeFileSync(join(repoRoot, path), text);
  console.log(`wrote ${path}`);
}
