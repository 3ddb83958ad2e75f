// Where the repository's files are, found from this file so the tests run from any working directory.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && 'workspaces' in (JSON.parse(readFileSync(manifest, 'utf8')) as object))
      return dir;
    dir = dirname(dir);
  }
  throw new Error('no package.json with workspaces above the test file');
}

export const REPO_ROOT = findRepoRoot();
export const DEFINITIONS_DIR = join(REPO_ROOT, 'slo', 'definitions');
export const GENERATED_DIR = join(REPO_ROOT, 'slo', 'generated');
export const RULES_DIR = join(GENERATED_DIR, 'rules');
export const DASHBOARDS_DIR = join(REPO_ROOT, 'dashboards', 'json');
export const RUNBOOKS_DIR = join(REPO_ROOT, 'docs', 'runbooks');
/** The ChatCluster whose canary analysis and SLO objects the metric-name check reads. */
export const PRODUCTION_EXAMPLE = join(REPO_ROOT, 'examples', 'chatcluster-production.yaml');
export const CHATCLUSTER_CRD = join(REPO_ROOT, 'crds', 'chatcluster.io_chatclusters.yaml');
export const OPERATOR_MAIN = join(REPO_ROOT, 'operator', 'dist', 'src', 'main.js');
