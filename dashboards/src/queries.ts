// Every PromQL expression a dashboard runs: its panels' targets and its query variables. Tests parse
// them with promtool and check their metric names against the services' /metrics.
import type { GrafanaDashboard } from './grafana.js';

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
