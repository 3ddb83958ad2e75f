// The resource types the operator reads or writes, with their REST paths. Optional ones belong to
// Argo Rollouts or the Prometheus Operator and are used only when discovery finds them.

export interface ResourceType {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Served only when a third-party CRD is installed. */
  optional?: 'argoRollouts' | 'prometheusOperator';
}

const t = (
  apiVersion: string,
  kind: string,
  plural: string,
  optional?: ResourceType['optional'],
): ResourceType => ({
  apiVersion,
  kind,
  plural,
  namespaced: true,
  ...(optional ? { optional } : {}),
});

export const CHATCLUSTER = t('chatcluster.io/v1alpha1', 'ChatCluster', 'chatclusters');
export const LEASE = t('coordination.k8s.io/v1', 'Lease', 'leases');
export const EVENT = t('v1', 'Event', 'events');

/** Every kind a ChatCluster may own; the operator watches these and prunes among them. */
export const OWNED_TYPES: ResourceType[] = [
  t('v1', 'ConfigMap', 'configmaps'),
  t('v1', 'Service', 'services'),
  t('v1', 'ServiceAccount', 'serviceaccounts'),
  t('apps/v1', 'Deployment', 'deployments'),
  t('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
  t('autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers'),
  t('networking.k8s.io/v1', 'Ingress', 'ingresses'),
  t('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies'),
  t('argoproj.io/v1alpha1', 'Rollout', 'rollouts', 'argoRollouts'),
  t('argoproj.io/v1alpha1', 'AnalysisTemplate', 'analysistemplates', 'argoRollouts'),
  t('monitoring.coreos.com/v1', 'ServiceMonitor', 'servicemonitors', 'prometheusOperator'),
  t('monitoring.coreos.com/v1', 'PrometheusRule', 'prometheusrules', 'prometheusOperator'),
];

/** Argo's AnalysisRuns: read (get) only, to name the metric that aborted a canary. */
export const ANALYSIS_RUN = t('argoproj.io/v1alpha1', 'AnalysisRun', 'analysisruns', 'argoRollouts');

const clusterScoped = (apiVersion: string, kind: string, plural: string): ResourceType => ({
  apiVersion,
  kind,
  plural,
  namespaced: false,
});

/** Kinds the operator never owns but the Helm chart, the examples and the tests create. */
export const OTHER_TYPES: ResourceType[] = [
  clusterScoped('v1', 'Namespace', 'namespaces'),
  t('v1', 'Secret', 'secrets'),
  t('v1', 'Pod', 'pods'),
  t('rbac.authorization.k8s.io/v1', 'Role', 'roles'),
  t('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings'),
  clusterScoped('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles'),
  clusterScoped('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings'),
  clusterScoped('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions'),
];

export const typeKey = (apiVersion: string, kind: string): string => `${apiVersion}/${kind}`;

const BY_KEY = new Map(
  [CHATCLUSTER, LEASE, EVENT, ANALYSIS_RUN, ...OWNED_TYPES, ...OTHER_TYPES].map((r) => [
    typeKey(r.apiVersion, r.kind),
    r,
  ]),
);

export function resourceTypeOf(object: { apiVersion: string; kind: string }): ResourceType {
  const type = BY_KEY.get(typeKey(object.apiVersion, object.kind));
  if (!type) throw new Error(`unknown resource type ${object.apiVersion} ${object.kind}`);
  return type;
}

/** /api/v1/namespaces/ns/configmaps[/name] or /apis/apps/v1/...; all namespaces when ns is undefined. */
export function resourcePath(type: ResourceType, namespace?: string, name?: string): string {
  const base = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  const ns = type.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${type.plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}`;
}
