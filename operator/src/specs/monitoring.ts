// Prometheus Operator ServiceMonitor for a component: scrapes /metrics and keeps the Argo Rollouts pod
// template hash as a label, which the canary analysis uses to tell canary pods from stable ones.
import type { ChatCluster, ComponentName } from '../api/types.js';
import { childMeta, componentLabels, componentName, selectorLabels, type KubeObject } from './meta.js';

/** The Argo Rollouts pod label, as Prometheus exposes it (dashes become underscores). */
export const POD_TEMPLATE_HASH_LABEL = 'rollouts-pod-template-hash';
export const POD_TEMPLATE_HASH_METRIC_LABEL = 'rollouts_pod_template_hash';

export function serviceMonitor(cluster: ChatCluster, component: ComponentName): KubeObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: childMeta(cluster, componentName(cluster, component), {
      ...componentLabels(cluster, component),
      ...cluster.spec.monitoring.labels,
    }),
    spec: {
      selector: { matchLabels: selectorLabels(cluster, component) },
      namespaceSelector: { matchNames: [cluster.metadata.namespace] },
      podTargetLabels: [POD_TEMPLATE_HASH_LABEL],
      endpoints: [{ port: 'http', path: '/metrics', interval: cluster.spec.monitoring.interval }],
    },
  };
}
