// The canary-health AnalysisTemplate: the rollback thresholds of the reliability review (error rate above
// 5 %, p95 latency above 2x the stable version's) measured in Prometheus on the canary's pods only.
// The SLO burn-rate templates come from the SLO compiler (slo-objects.ts); the Rollout references both.
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

// No traffic during the window yields no sample (or NaN): that is not a failure of the canary.
const noDataOr = (condition: string) => `len(result) == 0 || isNaN(result[0]) || ${condition}`;

export function canaryHealthAnalysisTemplate(cluster: ChatCluster, component: ComponentName): KubeObject {
  const analysis = cluster.spec.rollout.canary.analysis;
  const prefix = METRICS_PREFIX[component];
  const ns = cluster.metadata.namespace;
  const pods = (hashArg: string) =>
    `namespace="${ns}",${POD_TEMPLATE_HASH_METRIC_LABEL}="{{args.${hashArg}}}"`;
  const p95 = (hashArg: string) =>
    `histogram_quantile(0.95, sum by (le) (rate(${prefix}_http_request_duration_seconds_bucket{${pods(hashArg)}}[5m])))`;
  const prometheus = (query: string) => ({
    prometheus: { address: cluster.spec.monitoring.prometheusAddress, query },
  });
  const common = { interval: `${analysis.intervalSeconds}s`, failureLimit: analysis.failureLimit };
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
      metrics: [
        {
          name: 'error-rate',
          ...common,
          successCondition: noDataOr(`result[0] <= ${analysis.maxErrorRatePercent / 100}`),
          provider: prometheus(
            `sum(rate(${prefix}_http_requests_total{${pods('canary-hash')},code=~"5.."}[2m])) / ` +
              `sum(rate(${prefix}_http_requests_total{${pods('canary-hash')}}[2m]))`,
          ),
        },
        {
          name: 'p95-latency-vs-stable',
          ...common,
          successCondition: noDataOr(`result[0] <= ${analysis.maxLatencyP95Ratio}`),
          provider: prometheus(`${p95('canary-hash')} / ${p95('stable-hash')}`),
        },
      ],
    },
  };
}
