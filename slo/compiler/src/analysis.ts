// An Argo Rollouts AnalysisTemplate that gates a canary on the same SLI as the alerts: the burn rate
// over the last `window` must stay under `maxBurnRate`, measured every `interval`: `count` times, or
// (count null) until the Rollout stops the run, as background analysis for a whole canary does. With
// `minimumEvents`, a window with fewer events than that is neither a pass nor a failure: the
// measurement is Inconclusive (Argo pauses the Rollout for a person), so an idle canary never passes.
import { parseDuration } from './duration.js';
import { errorsRate, totalRate } from './promql.js';
import { formatNumber } from './rules.js';
import type { SloSpec } from './types.js';

export interface AnalysisTemplateOptions {
  name: string;
  namespace: string;
  /** Largest burn rate the canary may show; 1 spends exactly the budget. */
  maxBurnRate: number;
  /** Time between measurements; default 1m. */
  interval?: string;
  /**
   * Number of measurements; default 5. `null` leaves `count` out: Argo then measures every interval
   * until the run is stopped (background analysis: the Rollout stops it when the canary completes).
   */
  count?: number | null;
  /** Delay before the first measurement, e.g. one interval so that the window holds some traffic. */
  initialDelay?: string;
  /**
   * Fewest events (the SLI's total) in the window for a measurement to count. Fewer makes the
   * measurement Inconclusive instead of a pass. Unset: no guard (an idle canary passes).
   */
  minimumEvents?: number;
  /** Inconclusive measurements tolerated before the run is Inconclusive; default 0. */
  inconclusiveLimit?: number;
  /** e.g. http://prometheus.monitoring:9090 */
  prometheusAddress: string;
  /** Rate window of each measurement; default 5m. */
  window?: string;
  /**
   * Matchers that select the canary's series, e.g. `{ namespace: 'chat', rollouts_pod_template_hash:
   * '{{args.canary-hash}}' }`. Every `{{args.NAME}}` used here is declared in `spec.args`.
   */
  matchLabels?: Record<string, string>;
  /** Failed measurements tolerated before the analysis fails; default 0. */
  failureLimit?: number;
}

export interface AnalysisTemplateObject {
  apiVersion: 'argoproj.io/v1alpha1';
  kind: 'AnalysisTemplate';
  metadata: { name: string; namespace: string };
  spec: {
    args?: { name: string }[];
    metrics: {
      name: string;
      interval: string;
      initialDelay?: string;
      count?: number;
      failureLimit: number;
      inconclusiveLimit?: number;
      successCondition: string;
      failureCondition?: string;
      provider: { prometheus: { address: string; query: string } };
    }[];
  };
}

/**
 * The condition Argo evaluates on the query's result vector. `result[0] != result[0]` is true only
 * for NaN: a NaN (or empty) result means nothing was measured, which must not fail a canary, and a
 * plain `result[0] < max` would be false for NaN and roll back.
 */
export function burnRateSuccessCondition(maxBurnRate: number): string {
  return `len(result) == 0 || result[0] != result[0] || result[0] < ${formatNumber(maxBurnRate)}`;
}

/**
 * With a minimum-traffic guard the query yields no sample when the window is short of events, so the
 * conditions judge only a present, finite value and an empty result matches neither: Argo counts the
 * measurement Inconclusive. A NaN also matches neither.
 */
export function guardedBurnRateConditions(maxBurnRate: number): {
  successCondition: string;
  failureCondition: string;
} {
  const max = formatNumber(maxBurnRate);
  return {
    successCondition: `len(result) == 1 && !isNaN(result[0]) && result[0] < ${max}`,
    failureCondition: `len(result) == 1 && result[0] >= ${max}`,
  };
}

/**
 * The burn rate of the SLI over `window`, and only when the window holds at least `minimumEvents`
 * events (the SLI's total): `(errors / total / budget) and on() (total * seconds >= minimum)`.
 */
export function guardedBurnRateQuery(
  slo: SloSpec,
  window: string,
  minimumEvents: number,
  matchLabels: Record<string, string> = {},
): string {
  const seconds = parseDuration(window);
  if (!seconds) throw new Error(`window must be a duration like 5m, got "${window}"`);
  const budget = formatNumber(1 - slo.objective);
  const total = totalRate(slo.sli, window, matchLabels);
  return (
    `(\n  (${errorsRate(slo.sli, window, matchLabels)})\n  /\n  ((${total}) > 0)\n  / ${budget}\n)\n` +
    `and on() ((${total}) * ${seconds} >= ${formatNumber(minimumEvents)})`
  );
}

/**
 * The burn rate of the SLI over `window`. Exactly one sample, never NaN: the division drops the
 * sample when nothing was sent (`> 0`), and `or on() vector(0)` then reports 0.
 */
export function burnRateQuery(
  slo: SloSpec,
  window: string,
  matchLabels: Record<string, string> = {},
): string {
  const budget = formatNumber(1 - slo.objective);
  return (
    `(\n  (${errorsRate(slo.sli, window, matchLabels)})\n  /\n  ((${totalRate(slo.sli, window, matchLabels)}) > 0)\n  / ${budget}\n)\n` +
    'or on() vector(0)'
  );
}

/** An argoproj.io/v1alpha1 AnalysisTemplate for one SLO. */
export function toAnalysisTemplate(slo: SloSpec, options: AnalysisTemplateOptions): AnalysisTemplateObject {
  if (!(options.maxBurnRate > 0)) throw new Error(`maxBurnRate must be above 0, got ${options.maxBurnRate}`);
  const interval = options.interval ?? '1m';
  const window = options.window ?? '5m';
  for (const [field, value] of [
    ['interval', interval],
    ['window', window],
  ] as const) {
    if (!parseDuration(value)) throw new Error(`${field} must be a duration like 1m, got "${value}"`);
  }
  const count = options.count === undefined ? 5 : options.count;
  if (count !== null && (!Number.isInteger(count) || count < 1))
    throw new Error(`count must be a whole number above 0, got ${count}`);
  if (options.initialDelay !== undefined && !parseDuration(options.initialDelay))
    throw new Error(`initialDelay must be a duration like 1m, got "${options.initialDelay}"`);
  const minimumEvents = options.minimumEvents;
  if (minimumEvents !== undefined && !(minimumEvents > 0))
    throw new Error(`minimumEvents must be above 0, got ${minimumEvents}`);
  const matchLabels = options.matchLabels ?? {};
  const argNames = new Set<string>();
  for (const value of Object.values(matchLabels)) {
    for (const match of value.matchAll(/\{\{\s*args\.([A-Za-z0-9_-]+)\s*\}\}/g)) argNames.add(match[1]!);
  }
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: options.name, namespace: options.namespace },
    spec: {
      ...(argNames.size > 0 ? { args: [...argNames].map((name) => ({ name })) } : {}),
      metrics: [
        {
          name: `${slo.name}-burn-rate`,
          interval,
          ...(options.initialDelay !== undefined ? { initialDelay: options.initialDelay } : {}),
          ...(count !== null ? { count } : {}),
          failureLimit: options.failureLimit ?? 0,
          ...(minimumEvents !== undefined
            ? {
                inconclusiveLimit: options.inconclusiveLimit ?? 0,
                ...guardedBurnRateConditions(options.maxBurnRate),
              }
            : { successCondition: burnRateSuccessCondition(options.maxBurnRate) }),
          provider: {
            prometheus: {
              address: options.prometheusAddress,
              query:
                minimumEvents !== undefined
                  ? guardedBurnRateQuery(slo, window, minimumEvents, matchLabels)
                  : burnRateQuery(slo, window, matchLabels),
            },
          },
        },
      ],
    },
  };
}
