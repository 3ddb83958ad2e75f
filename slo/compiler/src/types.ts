// The compiler's data model: validated SLOs in, plain rule objects out (no classes, so they serialise as-is).

/** One label matcher of a series selector, e.g. `code=~"5.."`. */
export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** A counter series selector: `metric{matchers}`. SLIs are sums of these. */
export interface Selector {
  metric: string;
  matchers: LabelMatcher[];
}

/**
 * The SLI as counters. `total` counts every event; exactly one of `bad` (errors) or `good` is set,
 * and the error count is `bad`, or `total - good`. Several selectors in one list are summed.
 */
export interface RatioSli {
  name: string;
  total: Selector[];
  bad?: Selector[];
  good?: Selector[];
}

/** An extra alert from an OpenSLO AlertCondition: burn rate over one lookback window. */
export interface BurnRateCondition {
  /** The alert name, PascalCase of the condition's metadata.name. */
  alertName: string;
  description: string;
  severity: 'critical' | 'warning';
  op: '>' | '>=';
  /** Burn rate factor; 1 means spending exactly the budget. */
  threshold: number;
  lookbackWindow: string;
  /** Prometheus `for:`; '0s' fires on the first evaluation. */
  alertAfter: string;
}

export interface SloSpec {
  /** metadata.name, a DNS label; becomes the `slo` label. */
  name: string;
  displayName: string;
  description: string;
  /** spec.service; becomes the `service` label. */
  service: string;
  /** Fraction of good events, 0 < objective < 1 (0.999 for 99.9 %). */
  objective: number;
  /** The rolling compliance window: '30d' or '28d'. */
  period: '30d' | '28d';
  sli: RatioSli;
  conditions: BurnRateCondition[];
  /** Per-SLO override of the minimum-traffic guard (events in an alert's long window). */
  minimumEvents?: number;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export type Rule = RecordingRule | AlertingRule;

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}
