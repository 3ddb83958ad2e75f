// Repository paths for the dashboard tests, and every PromQL expression the dashboards run.
import { loadSlos, type SloSpec } from '@chatcluster/slo-compiler';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GrafanaDashboard } from '../../src/index.js';

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

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

/** Panel targets and query-variable definitions of a dashboard. */
export function queriesOf(board: GrafanaDashboard): DashboardQuery[] {
  const panels = board.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ dashboard: board.uid, panel: panel.title, expr: target.expr })),
  );
  const variables = board.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      // label_values(<metric or selector>, <label>): the first argument is the query that runs.
      const definition = String(variable.definition);
      const inner = /^label_values\((.*),\s*\w+\)$/.exec(definition)?.[1];
      if (!inner)
        throw new Error(
          `${board.uid}: variable ${String(variable.name)} is not label_values(...): ${definition}`,
        );
      return { dashboard: board.uid, panel: `variable ${String(variable.name)}`, expr: inner };
    });
  return [...panels, ...variables];
}

/** Grafana's variables replaced by values Prometheus accepts. */
export function substituteVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$slo', 'message-delivery');
}
