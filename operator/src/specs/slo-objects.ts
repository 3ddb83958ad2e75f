// SLO objects of a ChatCluster, made by the SLO compiler (@chatcluster/slo-compiler) from the platform's
// own definitions (slo/definitions, embedded in platform-slos.generated.ts), so the same SLO drives
// the burn-rate alerts (PrometheusRule) and the canary gate (AnalysisTemplate). The ChatCluster sets the
// objectives, the window and the latency threshold; its namespace and Services scope every SLI.
import {
  compileRuleGroups,
  loadSlos,
  readinessRuleGroup,
  toAnalysisTemplate,
  toPrometheusRule,
  type SloSpec,
} from '@chatcluster/slo-compiler';
import type { ChatCluster, ComponentName, SloSpec as ClusterSloSpec } from '../api/types.js';
import { childMeta, clusterLabels, componentLabels, componentName, type KubeObject } from './meta.js';
import { POD_TEMPLATE_HASH_METRIC_LABEL } from './monitoring.js';
import { PLATFORM_SLO_FILES } from './platform-slos.generated.js';

/** Which field of spec.slo sets the objective of each platform SLO. */
export const SLO_OBJECTIVE_FIELDS: Record<string, keyof Omit<ClusterSloSpec, 'enabled' | 'window'>> = {
  'message-delivery': 'messageDelivery',
  'message-api-availability': 'apiAvailability',
  'websocket-stability': 'websocketStability',
  'notification-success': 'notificationSuccess',
  'auth-availability': 'authAvailability',
};

const COMPONENT_OF_SERVICE: Record<string, ComponentName> = {
  auth: 'auth',
  message: 'message',
  notification: 'notification',
};

let platformSlos: SloSpec[] | undefined;
/** The platform's SLOs as defined in slo/definitions (parsed once). */
export function platformSloDefinitions(): SloSpec[] {
  platformSlos ??= loadSlos(PLATFORM_SLO_FILES);
  return platformSlos;
}

export const componentOfSlo = (slo: SloSpec): ComponentName => {
  const component = COMPONENT_OF_SERVICE[slo.service];
  if (!component)
    throw new Error(`SLO ${slo.name} belongs to service "${slo.service}", which is not a component`);
  return component;
};

/** The platform's SLOs with this ChatCluster's objectives, window and delivery latency threshold. */
export function clusterSlos(cluster: ChatCluster): SloSpec[] {
  const spec = cluster.spec.slo;
  return platformSloDefinitions().map((slo) => {
    const field = SLO_OBJECTIVE_FIELDS[slo.name];
    if (!field) throw new Error(`SLO ${slo.name} has no objective in the ChatCluster spec (spec.slo)`);
    const tuned: SloSpec = { ...slo, objective: spec[field].objectivePercent / 100, period: spec.window };
    if (field === 'messageDelivery') {
      // The "good" events are the histogram bucket at the threshold (0.2, 0.3 or 0.5 s: the kit's buckets).
      const le = String(spec.messageDelivery.latencyThresholdSeconds);
      tuned.sli = {
        ...slo.sli,
        ...(slo.sli.good
          ? {
              good: slo.sli.good.map((selector) => ({
                ...selector,
                matchers: selector.matchers.map((m) => (m.name === 'le' ? { ...m, value: le } : m)),
              })),
            }
          : {}),
      };
    }
    return tuned;
  });
}

/** Series of one component of this ChatCluster: its namespace and its Service (set by the ServiceMonitor). */
const scope = (cluster: ChatCluster, component: ComponentName): Record<string, string> => ({
  namespace: cluster.metadata.namespace,
  service: componentName(cluster, component),
});

export const sloPrometheusRuleName = (cluster: ChatCluster): string => `${cluster.metadata.name}-slo`;
export const sloAnalysisTemplateName = (cluster: ChatCluster, slo: SloSpec): string =>
  `${cluster.metadata.name}-${slo.name}-slo`;

export function sloPrometheusRule(cluster: ChatCluster): KubeObject {
  const name = sloPrometheusRuleName(cluster);
  // Compiled per component, because each component's SLIs are scoped to its own Service.
  const groups = clusterSlos(cluster).flatMap((slo) =>
    compileRuleGroups([slo], {
      matchLabels: scope(cluster, componentOfSlo(slo)),
      extraLabels: { chatcluster: cluster.metadata.name, namespace: cluster.metadata.namespace },
    }),
  );
  // The readiness-degraded alert rides along: it has no SLO, but the same scope and labels.
  const readiness = readinessRuleGroup({
    matchLabels: (service) => scope(cluster, COMPONENT_OF_SERVICE[service]!),
    extraLabels: { chatcluster: cluster.metadata.name },
  });
  const compiled = toPrometheusRule([...groups, readiness], { name, namespace: cluster.metadata.namespace });
  return {
    ...compiled,
    metadata: childMeta(cluster, name, { ...clusterLabels(cluster), ...cluster.spec.monitoring.labels }),
  };
}

/** The SLOs that gate a component's canary. */
export const componentSlos = (cluster: ChatCluster, component: ComponentName): SloSpec[] =>
  clusterSlos(cluster).filter((slo) => componentOfSlo(slo) === component);

export function sloAnalysisTemplates(cluster: ChatCluster, component: ComponentName): KubeObject[] {
  const analysis = cluster.spec.rollout.canary.analysis;
  return componentSlos(cluster, component).map((slo) => {
    const name = sloAnalysisTemplateName(cluster, slo);
    const compiled = toAnalysisTemplate(slo, {
      name,
      namespace: cluster.metadata.namespace,
      maxBurnRate: analysis.maxBurnRate,
      prometheusAddress: cluster.spec.monitoring.prometheusAddress,
      interval: `${analysis.intervalSeconds}s`,
      // Background analysis for the whole canary: no count, measured until the Rollout completes; the
      // first measurement one interval in, and too few events in the window is Inconclusive.
      count: null,
      initialDelay: `${analysis.intervalSeconds}s`,
      minimumEvents: analysis.minimumEvents,
      failureLimit: analysis.failureLimit,
      // Only the canary's pods: Argo fills the hash in from the Rollout's args.
      matchLabels: { ...scope(cluster, component), [POD_TEMPLATE_HASH_METRIC_LABEL]: '{{args.canary-hash}}' },
    });
    return {
      ...compiled,
      metadata: childMeta(cluster, name, componentLabels(cluster, component)),
    };
  });
}
