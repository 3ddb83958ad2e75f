// A small Grafana dashboard model: enough to describe our dashboards as data and lay them out,
// nothing Grafana does not need. Every panel reads the one `datasource` variable and has a unit.

/** Every query goes through this variable, so one dashboard works against any Prometheus. */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

export interface Query {
  expr: string;
  /** Series name in the legend; `{{label}}` inserts a label. */
  legend: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  /** A Grafana unit id: reqps, cps, s, percentunit, short, none, or `suffix:x`. */
  unit: string;
  queries: Query[];
  kind?: 'timeseries' | 'stat';
  /** Width out of 24; default 12 (two panels a row). */
  width?: number;
  min?: number;
  max?: number;
  /** Threshold steps: colour from a value on (the first starts at -Infinity). */
  thresholds?: { value: number | null; color: string }[];
  /** Draw the thresholds as lines on a time series (burn-rate factors, SLO targets). */
  thresholdLines?: boolean;
  /** Value -> text, e.g. breaker states. */
  valueText?: Record<number, string>;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export interface VariableSpec {
  name: string;
  label: string;
  /** A Prometheus `label_values(...)` query. */
  query: string;
}

export interface DashboardSpec {
  /** Stable; links and provisioning depend on it. */
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables?: VariableSpec[];
  rows: RowSpec[];
}

export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  description?: string;
  datasource?: typeof DATASOURCE;
  collapsed?: boolean;
  panels?: GrafanaPanel[];
  fieldConfig?: { defaults: Record<string, unknown>; overrides: unknown[] };
  options?: Record<string, unknown>;
  targets?: {
    refId: string;
    datasource: typeof DATASOURCE;
    expr: string;
    legendFormat: string;
    range: boolean;
    instant: boolean;
  }[];
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  editable: boolean;
  schemaVersion: number;
  version: number;
  time: { from: string; to: string };
  refresh: string;
  timezone: string;
  graphTooltip: number;
  annotations: { list: unknown[] };
  templating: { list: Record<string, unknown>[] };
  panels: GrafanaPanel[];
}

const PANEL_HEIGHT = 8;

function fieldConfig(spec: PanelSpec): GrafanaPanel['fieldConfig'] {
  const defaults: Record<string, unknown> = {
    unit: spec.unit,
    thresholds: {
      mode: 'absolute',
      steps: (spec.thresholds ?? [{ value: null, color: 'green' }]).map((step) => ({ ...step })),
    },
  };
  if (spec.min !== undefined) defaults.min = spec.min;
  if (spec.max !== undefined) defaults.max = spec.max;
  if (spec.valueText) {
    defaults.mappings = [
      {
        type: 'value',
        options: Object.fromEntries(
          Object.entries(spec.valueText).map(([value, text], index) => [value, { text, index }]),
        ),
      },
    ];
  }
  if ((spec.kind ?? 'timeseries') === 'timeseries') {
    defaults.custom = {
      drawStyle: 'line',
      lineWidth: 1,
      fillOpacity: 10,
      showPoints: 'never',
      spanNulls: false,
      thresholdsStyle: { mode: spec.thresholdLines ? 'line' : 'off' },
    };
  }
  return { defaults, overrides: [] };
}

function options(spec: PanelSpec): Record<string, unknown> {
  if (spec.kind === 'stat') {
    return {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'value',
      graphMode: 'area',
      textMode: 'auto',
    };
  }
  return {
    legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
    tooltip: { mode: 'multi', sort: 'desc' },
  };
}

/** Lays rows out top to bottom, panels left to right wrapping at 24 columns; ids in order. */
export function dashboard(spec: DashboardSpec): GrafanaDashboard {
  let id = 0;
  let y = 0;
  const panels: GrafanaPanel[] = [];
  for (const row of spec.rows) {
    panels.push({
      id: ++id,
      type: 'row',
      title: row.title,
      collapsed: false,
      panels: [],
      gridPos: { x: 0, y, w: 24, h: 1 },
    });
    y += 1;
    let x = 0;
    for (const panel of row.panels) {
      const width = panel.width ?? 12;
      if (x + width > 24) {
        x = 0;
        y += PANEL_HEIGHT;
      }
      panels.push({
        id: ++id,
        type: panel.kind ?? 'timeseries',
        title: panel.title,
        description: panel.description,
        datasource: DATASOURCE,
        gridPos: { x, y, w: width, h: PANEL_HEIGHT },
        fieldConfig: fieldConfig(panel),
        options: options(panel),
        targets: panel.queries.map((query, index) => ({
          refId: String.fromCharCode(65 + index),
          datasource: DATASOURCE,
          expr: query.expr,
          legendFormat: query.legend,
          range: true,
          instant: false,
        })),
      });
      x += width;
    }
    if (x > 0) y += PANEL_HEIGHT;
  }

  const variables = (spec.variables ?? []).map((variable) => ({
    name: variable.name,
    label: variable.label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query: variable.query, refId: 'variable' },
    definition: variable.query,
    refresh: 2,
    sort: 1,
    multi: false,
    includeAll: false,
    hide: 0,
  }));

  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: spec.tags,
    editable: true,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    timezone: 'browser',
    graphTooltip: 1,
    annotations: { list: [] },
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
        },
        ...variables,
      ],
    },
    panels,
  };
}

/** `rate(...[$__rate_interval])`: Grafana picks a window that always spans enough scrapes. */
export const rate = (selector: string): string => `rate(${selector}[$__rate_interval])`;

/** p50/p95/p99 of a histogram, one query each. */
export function quantiles(bucketSelector: string, by = ''): Query[] {
  const grouping = by ? `le, ${by}` : 'le';
  return [0.5, 0.95, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (${grouping}) (${rate(bucketSelector)}))`,
    legend: by ? `p${q * 100} {{${by}}}` : `p${q * 100}`,
  }));
}
