// SloSpec -> Prometheus rule groups: SLI recordings per window, SLO metadata, and the Google SRE
// Workbook's multi-window, multi-burn-rate alerts. Pure: same input, same output, no I/O.
import { formatDuration, parseDuration } from './duration.js';
import {
  BUDGET_REMAINING_RECORD,
  CURRENT_BURN_RATE_RECORD,
  ERROR_BUDGET_RECORD,
  LONGEST_RAW_WINDOW,
  OBJECTIVE_RECORD,
  PERIOD_BURN_RATE_RECORD,
  PERIOD_DAYS_RECORD,
  SLI_WINDOWS,
  absentAlertName,
  burnAlertName,
  errorRatioRecord,
  errorsRateRecord,
  totalRateRecord,
} from './names.js';
import { errorsRate, totalRate } from './promql.js';
import { formatSelector, withMatchLabels } from './selector.js';
import type {
  AlertingRule,
  BurnRateCondition,
  RecordingRule,
  Rule,
  RuleGroup,
  Selector,
  SloSpec,
} from './types.js';

export const DEFAULT_RUNBOOK_BASE_URL = 'https://github.com/chatcluster/chatcluster/blob/main/docs/runbooks/';
/** Fewer events than this in an alert's long window never alert: one failure in three is not an outage. */
export const DEFAULT_MINIMUM_EVENTS = 20;
export const DEFAULT_ABSENT_FOR = '10m';

export interface CompileOptions {
  /** Prefix of every runbook_url; the alert name and ".md" are appended. */
  runbookBaseUrl?: string;
  /** Equality matchers added to every SLI selector, e.g. `{ namespace: 'chat-prod' }`. */
  matchLabels?: Record<string, string>;
  /** Labels added to every recorded series and alert, e.g. `{ chatcluster: 'prod' }`. */
  extraLabels?: Record<string, string>;
  /** Default minimum-traffic guard; an SLO's `chatcluster.io/minimum-events` annotation overrides it. */
  minimumEvents?: number;
  /** How long the SLI's counters must be missing before the absent alert fires. */
  absentFor?: string;
  /** Evaluation interval of the groups; Prometheus' global one when unset. */
  interval?: string;
}

/** The workbook's pairs: page on a fast burn, ticket on a slow one. */
export const BURN_RATE_ALERTS = [
  { severity: 'critical', longWindow: '1h', shortWindow: '5m', burnRate: 14.4 },
  { severity: 'critical', longWindow: '6h', shortWindow: '30m', burnRate: 6 },
  { severity: 'warning', longWindow: '1d', shortWindow: '2h', burnRate: 3 },
  { severity: 'warning', longWindow: '3d', shortWindow: '6h', burnRate: 1 },
] as const;

/** Numbers printed without float noise: 1 - 0.999 is 0.001, not 0.0010000000000000009. */
export function formatNumber(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/** Compiles one rule group per SLO (recordings first, so alerts read this evaluation's values). */
export function compileRuleGroups(slos: SloSpec[], options: CompileOptions = {}): RuleGroup[] {
  const seen = new Set<string>();
  for (const slo of slos) {
    if (seen.has(slo.name)) throw new Error(`two SLOs are named "${slo.name}"; names must be unique`);
    seen.add(slo.name);
  }
  return slos.map((slo) => compileSlo(slo, options));
}

function compileSlo(slo: SloSpec, options: CompileOptions): RuleGroup {
  const labels = { slo: slo.name, service: slo.service, ...(options.extraLabels ?? {}) };
  const own = `{${Object.entries(labels)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(',')}}`;
  const matchLabels = options.matchLabels ?? {};
  const budget = formatNumber(1 - slo.objective);

  const windows = recordedWindows(slo);
  const rules: Rule[] = [];
  for (const window of windows) {
    const raw = parseDuration(window)! <= parseDuration(LONGEST_RAW_WINDOW)!;
    const errorsExpr = raw
      ? errorsRate(slo.sli, window, matchLabels)
      : // Mean of the 5m rates over the window: the event-weighted ratio of totals, exact under uneven
        // traffic, where a mean of ratios would let a quiet hour count as much as a busy one.
        `avg_over_time(${errorsRateRecord('5m')}${own}[${window}])`;
    const totalExpr = raw
      ? totalRate(slo.sli, window, matchLabels)
      : `avg_over_time(${totalRateRecord('5m')}${own}[${window}])`;
    rules.push(
      record(errorsRateRecord(window), errorsExpr, labels),
      record(totalRateRecord(window), totalExpr, labels),
      // `> 0` drops the sample while nothing was sent, so no NaN ever reaches an alert or a budget.
      record(
        errorRatioRecord(window),
        `${errorsRateRecord(window)}${own} / (${totalRateRecord(window)}${own} > 0)`,
        labels,
      ),
    );
  }

  rules.push(
    record(OBJECTIVE_RECORD, `vector(${formatNumber(slo.objective)})`, labels),
    record(ERROR_BUDGET_RECORD, `vector(${budget})`, labels),
    record(PERIOD_DAYS_RECORD, `vector(${parseDuration(slo.period)! / 86400})`, labels),
    // No traffic burns nothing: `or on() vector(0)` turns the missing ratio into 0, not a gap.
    record(
      CURRENT_BURN_RATE_RECORD,
      `(${errorRatioRecord('5m')}${own} / ${budget}) or on() vector(0)`,
      labels,
    ),
    record(
      PERIOD_BURN_RATE_RECORD,
      `(${errorRatioRecord(slo.period)}${own} / ${budget}) or on() vector(0)`,
      labels,
    ),
    record(BUDGET_REMAINING_RECORD, `1 - ${PERIOD_BURN_RATE_RECORD}${own}`, labels),
  );

  const minimumEvents = slo.minimumEvents ?? options.minimumEvents ?? DEFAULT_MINIMUM_EVENTS;
  const runbookBase = options.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL;
  const context = { slo, own, labels, budget, minimumEvents, runbookBase };
  const alertNames = new Set<string>([burnAlertName(slo.name), absentAlertName(slo.name)]);
  for (const pair of BURN_RATE_ALERTS) rules.push(burnAlert(context, pair));
  for (const condition of slo.conditions) {
    if (alertNames.has(condition.alertName)) {
      throw new Error(
        `SLO "${slo.name}": alert condition name gives alert ${condition.alertName}, which already exists`,
      );
    }
    alertNames.add(condition.alertName);
    rules.push(conditionAlert(context, condition));
  }
  const scope = (selectors: Selector[]): Selector[] => selectors.map((s) => withMatchLabels(s, matchLabels));
  rules.push(
    absentAlert(
      context,
      scope(slo.sli.total),
      scope(slo.sli.good ?? []),
      options.absentFor ?? DEFAULT_ABSENT_FOR,
    ),
  );

  return { name: `slo-${slo.name}`, ...(options.interval ? { interval: options.interval } : {}), rules };
}

/** The standard windows, any alert condition's lookback, and the period, shortest first. */
function recordedWindows(slo: SloSpec): string[] {
  const seconds = new Set<number>(
    [...SLI_WINDOWS, ...slo.conditions.map((c) => c.lookbackWindow), slo.period].map((w) =>
      parseDuration(w)!,
    ),
  );
  return [...seconds].sort((a, b) => a - b).map(formatDuration);
}

function record(name: string, expr: string, labels: Record<string, string>): RecordingRule {
  return { record: name, expr, labels: { ...labels } };
}

interface AlertContext {
  slo: SloSpec;
  own: string;
  labels: Record<string, string>;
  budget: string;
  minimumEvents: number;
  runbookBase: string;
}

/** `and` clause that keeps low-volume windows from alerting; empty when the guard is 0. */
function trafficGuard(context: AlertContext, window: string): string {
  if (context.minimumEvents === 0) return '';
  return `\nand\n${totalRateRecord(window)}${context.own} * ${parseDuration(window)} >= ${context.minimumEvents}`;
}

function percent(fraction: number): string {
  return `${formatNumber(fraction * 100)}%`;
}

/** "at this rate the 30d budget lasts 50h". */
function exhaustion(slo: SloSpec, burnRate: number): string {
  const hours = parseDuration(slo.period)! / 3600 / burnRate;
  return hours < 48 ? `${formatNumber(Math.round(hours))}h` : `${formatNumber(Math.round(hours / 24))}d`;
}

function burnAlert(context: AlertContext, pair: (typeof BURN_RATE_ALERTS)[number]): AlertingRule {
  const { slo, own, budget } = context;
  const threshold = `(${pair.burnRate} * ${budget})`;
  const alert = burnAlertName(slo.name);
  return {
    alert,
    expr:
      `${errorRatioRecord(pair.longWindow)}${own} > ${threshold}\n` +
      `and\n${errorRatioRecord(pair.shortWindow)}${own} > ${threshold}` +
      trafficGuard(context, pair.longWindow),
    labels: {
      ...context.labels,
      severity: pair.severity,
      long_window: pair.longWindow,
      short_window: pair.shortWindow,
      burn_rate: String(pair.burnRate),
    },
    annotations: {
      summary: `${slo.displayName} is spending its error budget ${pair.burnRate}x too fast (${pair.longWindow} and ${pair.shortWindow} windows).`,
      // Static text (no $value): the dashboard shows the live ratio, and a fixed text is testable.
      description:
        `More than ${percent(pair.burnRate * (1 - slo.objective))} of events failed the SLI over both the last ` +
        `${pair.longWindow} and the last ${pair.shortWindow}; the objective is ${percent(slo.objective)} over ${slo.period}. ` +
        `At ${pair.burnRate}x the whole ${slo.period} budget lasts ${exhaustion(slo, pair.burnRate)}.`,
      runbook_url: `${context.runbookBase}${alert}.md`,
    },
  };
}

function conditionAlert(context: AlertContext, condition: BurnRateCondition): AlertingRule {
  const { slo, own, budget } = context;
  const window = condition.lookbackWindow;
  return {
    alert: condition.alertName,
    expr:
      `${errorRatioRecord(window)}${own} ${condition.op} (${formatNumber(condition.threshold)} * ${budget})` +
      trafficGuard(context, window),
    ...(condition.alertAfter === '0s' ? {} : { for: condition.alertAfter }),
    labels: {
      ...context.labels,
      severity: condition.severity,
      window,
      burn_rate: formatNumber(condition.threshold),
    },
    annotations: {
      summary:
        condition.description ||
        `${slo.displayName} burns its error budget at ${formatNumber(condition.threshold)}x or more over ${window}.`,
      description:
        `${condition.op === '>' ? 'More than' : 'At least'} ${percent(condition.threshold * (1 - slo.objective))} of events ` +
        `failed the SLI over the last ${window}; the objective is ${percent(slo.objective)}.`,
      runbook_url: `${context.runbookBase}${condition.alertName}.md`,
    },
  };
}

/**
 * Fires when the SLI cannot be computed: none of the total counters is exported, or a good counter
 * is missing (a histogram bucket renamed or dropped). A missing bad counter is normal (no 5xx yet),
 * and so is one missing term of a summed total (no notification failed yet).
 */
function absentAlert(
  context: AlertContext,
  total: Selector[],
  good: Selector[],
  absentFor: string,
): AlertingRule {
  const { slo } = context;
  const alert = absentAlertName(slo.name);
  const noTotal = total.map((selector) => `absent(${formatSelector(selector)})`).join(' and on() ');
  const expr = [
    total.length > 1 ? `(${noTotal})` : noTotal,
    ...good.map((s) => `absent(${formatSelector(s)})`),
  ];
  const names = [...new Set([...total, ...good].map((s) => s.metric))].join(', ');
  return {
    alert,
    expr: expr.join('\nor on()\n'),
    for: absentFor,
    labels: { ...context.labels, severity: 'warning' },
    annotations: {
      summary: `${slo.displayName} cannot be measured: its SLI counters (${names}) are not exported.`,
      description:
        `The SLI's counters have been missing for ${absentFor}. The burn-rate alerts of ${slo.name} ` +
        'are blind until the service exports them again.',
      runbook_url: `${context.runbookBase}${alert}.md`,
    },
  };
}
