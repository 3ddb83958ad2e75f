// The canary-health AnalysisTemplate: the rollback thresholds of the reliability review (error rate above
// 5 %, p95 latency above 2x the stable version's) measured in Prometheus on the canary's pods only
// (rollouts_pod_template_hash, which the ServiceMonitors copy from the pod label), on each component's
// own traffic: auth's HTTP API; message's WebSocket sends (refused with a 5xx, or acked slower than the
// delivery objective) and its HTTP API; notification's deliveries (failed or dead-lettered).
// The SLO burn-rate templates come from the SLO compiler (slo-objects.ts); the Rollout references both
// and runs them as background analysis for the whole canary (workloads.ts).
//
// Every metric has the minimum-traffic guard: its query yields no sample unless the canary's pods saw
// at least spec.rollout.canary.analysis.minimumEvents events in the window, and an empty result
// matches neither condition, so Argo counts the measurement Inconclusive and pauses the Rollout for a
// person. Too little traffic is never a pass, and one error among a handful of requests never a failure.
import type { ChatCluster, ComponentName } from '../api/types.js';
import { componentSlos, sloAnalysisTemplateName } from './slo-objects.js';
import { METRICS_PREFIX, childMeta, componentLabels, componentName, type KubeObject } from './meta.js';
import { POD_TEMPLATE_HASH_METRIC_LABEL } from './monitoring.js';

export const canaryHealthTemplateName = (cluster: ChatCluster, component: ComponentName): string =>
  `${componentName(cluster, component)}-canary-health`;

/** Every AnalysisTemplate the component's Rollout runs during a canary. */
export function analysisTemplateNames(cluster: ChatCluster, component: ComponentName): string[] {
  const names = [canaryHealthTemplateName(cluster, component)];
  if (cluster.spec.slo.enabled) {
    names.push(...componentSlos(cluster, component).map((slo) => sloAnalysisTemplateName(cluster, slo)));
  }
  return names;
}

/** The rate window of the canary-health queries. */
export const CANARY_HEALTH_WINDOW = '2m';
const WINDOW_SECONDS = 120;

/** Probes and scrapes are not user requests (as in the SLO definitions). */
const NOT_PROBES = 'route!~"/health/.*|/metrics"';

/**
 * The conditions of a guarded metric: only a present, finite value is judged; an empty result (too
 * little traffic, or no series at all) or NaN matches neither, which Argo counts as Inconclusive.
 */
export function guardedConditions(max: number): { successCondition: string; failureCondition: string } {
  return {
    successCondition: `len(result) == 1 && !isNaN(result[0]) && result[0] <= ${max}`,
    failureCondition: `len(result) == 1 && result[0] > ${max}`,
  };
}

/** `value`, kept only when `events` (a per-second rate) adds up to the minimum over the window. */
export const withMinimumTraffic = (value: string, eventsPerSecond: string, minimumEvents: number): string =>
  `(${value})\nand on() ((${eventsPerSecond}) * ${WINDOW_SECONDS} >= ${minimumEvents})`;

interface Measured {
  name: string;
  max: number;
  query: string;
}

function componentMetrics(cluster: ChatCluster, component: ComponentName): Measured[] {
  const analysis = cluster.spec.rollout.canary.analysis;
  const prefix = METRICS_PREFIX[component];
  const ns = cluster.metadata.namespace;
  const pods = (hashArg: string) =>
    `namespace="${ns}",${POD_TEMPLATE_HASH_METRIC_LABEL}="{{args.${hashArg}}}"`;
  const canary = pods('canary-hash');
  /** Per-second rate of a counter of the canary's pods; `orZero` for counters that may have no series. */
  const rate = (series: string, matchers: string, orZero = false) =>
    orZero
      ? `(sum(rate(${series}{${canary}${matchers ? `,${matchers}` : ''}}[${CANARY_HEALTH_WINDOW}])) or vector(0))`
      : `sum(rate(${series}{${canary}${matchers ? `,${matchers}` : ''}}[${CANARY_HEALTH_WINDOW}]))`;
  const errorShare = analysis.maxErrorRatePercent / 100;
  const min = analysis.minimumEvents;

  const httpRequests = rate(`${prefix}_http_requests_total`, NOT_PROBES);
  const http5xx = rate(`${prefix}_http_requests_total`, `code=~"5..",${NOT_PROBES}`, true);

  if (component === 'auth') {
    const p95 = (hashArg: string) =>
      `histogram_quantile(0.95, sum by (le) (rate(${prefix}_http_request_duration_seconds_bucket{${pods(hashArg)},${NOT_PROBES}}[5m])))`;
    return [
      {
        name: 'error-rate',
        max: errorShare,
        query: withMinimumTraffic(`${http5xx} / ${httpRequests}`, httpRequests, min),
      },
      {
        name: 'p95-latency-vs-stable',
        max: analysis.maxLatencyP95Ratio,
        query: withMinimumTraffic(`${p95('canary-hash')} / ${p95('stable-hash')}`, httpRequests, min),
      },
    ];
  }
  if (component === 'message') {
    // The WebSocket path, which is what chat users use: sends answered with a 5xx, and sends acked
    // later than the delivery objective's latency threshold (the ack histogram shares its buckets).
    const le = String(cluster.spec.slo.messageDelivery.latencyThresholdSeconds);
    const wsSends = rate(`${prefix}_ws_sends_total`, '');
    const ws5xx = rate(`${prefix}_ws_sends_total`, 'code=~"5.."', true);
    const slowAcks =
      `clamp_min(${rate(`${prefix}_send_ack_latency_seconds_count`, '', true)} - ` +
      `${rate(`${prefix}_send_ack_latency_seconds_bucket`, `le="${le}"`, true)}, 0)`;
    const allEvents = `(${rate(`${prefix}_ws_sends_total`, '', true)} + (${httpRequests} or vector(0)))`;
    return [
      {
        name: 'ws-send-failures',
        max: errorShare,
        query: withMinimumTraffic(`(${ws5xx} + ${slowAcks}) / ${wsSends}`, wsSends, min),
      },
      {
        // HTTP and WebSocket together, so a quiet HTTP API alone does not leave the gate Inconclusive.
        name: 'error-rate',
        max: errorShare,
        query: withMinimumTraffic(`(${http5xx} + ${ws5xx}) / ${allEvents}`, allEvents, min),
      },
    ];
  }
  // Notification: deliveries by the canary's pods that failed or went to the dead-letter stream
  // (provider "none" is a malformed event, not a delivery).
  const sent = rate(`${prefix}_sent_total`, '', true);
  const failed = rate(`${prefix}_failed_total`, '', true);
  const deadLettered = rate(`${prefix}_dead_lettered_total`, 'provider!="none"', true);
  const deliveries = `(${sent} + ${failed} + ${deadLettered})`;
  return [
    {
      name: 'delivery-failures',
      max: errorShare,
      query: withMinimumTraffic(`(${failed} + ${deadLettered}) / ${deliveries}`, deliveries, min),
    },
  ];
}

export function canaryHealthAnalysisTemplate(cluster: ChatCluster, component: ComponentName): KubeObject {
  const analysis = cluster.spec.rollout.canary.analysis;
  const interval = `${analysis.intervalSeconds}s`;
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: childMeta(
      cluster,
      canaryHealthTemplateName(cluster, component),
      componentLabels(cluster, component),
    ),
    spec: {
      args: [{ name: 'canary-hash' }, { name: 'stable-hash' }],
      metrics: componentMetrics(cluster, component).map(({ name, max, query }) => ({
        name,
        // No count: measured every interval until the Rollout completes (background analysis). The
        // first measurement waits one interval, so that its window holds the canary's traffic.
        interval,
        initialDelay: interval,
        failureLimit: analysis.failureLimit,
        inconclusiveLimit: 0,
        ...guardedConditions(max),
        provider: { prometheus: { address: cluster.spec.monitoring.prometheusAddress, query } },
      })),
    },
  };
}
