// The files generated from TypeScript or embedded into it, shared by generate.ts (which writes them)
// and the staleness test (which fails when one is out of date). Output goes through prettier with the
// repository's settings, so `prettier --check` and the staleness test agree.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { chatClusterCrd } from './api/chatcluster-crd.js';

export const CRD_FILE_NAME = 'chatcluster.io_chatclusters.yaml';
const GENERATED =
  'Do not edit: change the source, then run `npx tsc -b operator && node operator/dist/src/generate.js`.';

/** Generated file path (relative to the repository root) -> expected content. */
export async function generatedFiles(repoRoot: string): Promise<Map<string, string>> {
  const crd = await formatted(
    repoRoot,
    'crd.yaml',
    `# Generated from operator/src/api/chatcluster-crd.ts. ${GENERATED}\n` +
      yaml.dump(chatClusterCrd(), { lineWidth: -1, noRefs: true }),
  );
  return new Map<string, string>([
    [join('crds', CRD_FILE_NAME), crd],
    [join('charts', 'chatcluster-operator', 'crds', CRD_FILE_NAME), crd],
    [
      join('operator', 'src', 'specs', 'platform-slos.generated.ts'),
      await formatted(repoRoot, 'module.ts', platformSlosModule(repoRoot)),
    ],
  ]);
}

/** slo/definitions embedded as a module, so the operator needs no files at run time. */
function platformSlosModule(repoRoot: string): string {
  const dir = join(repoRoot, 'slo', 'definitions');
  const entries = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => ({ path: `slo/definitions/${f}`, text: readFileSync(join(dir, f), 'utf8') }));
  return (
    `// Generated from slo/definitions. ${GENERATED}\n` +
    "import type { DefinitionFile } from '@chatcluster/slo-compiler';\n\n" +
    `export const PLATFORM_SLO_FILES: DefinitionFile[] = ${JSON.stringify(entries, null, 2)};\n`
  );
}

async function formatted(repoRoot: string, fileName: string, text: string): Promise<string> {
  // prettier is a development tool of the repository, not a dependency of the operator at run time.
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(join(repoRoot, 'operator', fileName))) ?? {};
  return prettier.format(text, { ...options, filepath: fileName });
}
