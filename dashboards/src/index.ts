// @chatcluster/dashboards: every dashboard, and their JSON files as committed under dashboards/json.
import { dependencies } from './boards/dependencies.js';
import { operator } from './boards/operator.js';
import { platformOverview } from './boards/platform-overview.js';
import { slos } from './boards/slos.js';
import { websockets } from './boards/websockets.js';
import type { GrafanaDashboard } from './grafana.js';

export * from './grafana.js';
export { queriesOf, type DashboardQuery } from './queries.js';
export { SERVICES, OPERATOR_PREFIX } from './services.js';

export function allDashboards(): GrafanaDashboard[] {
  return [platformOverview(), websockets(), slos(), dependencies(), operator()];
}

/** File name (`<uid>.json`) -> JSON text, as committed under dashboards/json. */
export function dashboardFiles(): Map<string, string> {
  return new Map(
    allDashboards().map((board) => [`${board.uid}.json`, `${JSON.stringify(board, null, 2)}\n`]),
  );
}
