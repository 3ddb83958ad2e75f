// Repository paths for the dashboard tests, and every PromQL expression the dashboards run.
import { loadSlos, type SloSpec } from '@chatcluster/slo-compiler';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
export { queriesOf, type DashboardQuery } from '../../src/index.js';

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
export const JSON_DIR = join(REPO_ROOT, 'dashboards', 'json');
export const ARCHITECTURE_DOC = join(REPO_ROOT, 'docs', 'architecture.md');

export function repoSlos(): SloSpec[] {
  const dir = join(REPO_ROOT, 'slo', 'definitions');
  return loadSlos(
    readdirSync(dir)
      .filter((name) => /\.ya?ml$/.test(name))
      .map((name) => ({ path: name, text: readFileSync(join(dir, name), 'utf8') })),
  );
}

/** Grafana's variables replaced by values Prometheus accepts. */
export function substituteVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$slo', 'message-delivery');
}
