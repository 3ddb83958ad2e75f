// Names, labels, owner references and ports every builder shares, so objects of one ChatCluster are
// found (by label) and tied to it (by owner reference) the same way everywhere.
import { API_VERSION, KIND, type ChatCluster, type ComponentName } from '../api/types.js';

export const MANAGED_BY = 'chatcluster-operator';
export const CLUSTER_LABEL = 'chatcluster.io/cluster';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
/** Hash of the desired object, so a desired change is noticed even when it only removes fields. */
export const DESIRED_HASH_ANNOTATION = 'chatcluster.io/desired-hash';
/** Hash of the component's configuration ConfigMap: a config change changes the pod template. */
export const CONFIG_CHECKSUM_ANNOTATION = 'chatcluster.io/config-checksum';
/** Checksum of the Secrets and other ConfigMaps the pods read: a rotated credential rolls the pods. */
export const REFERENCED_DATA_CHECKSUM_ANNOTATION = 'chatcluster.io/referenced-data-checksum';

export const PORTS: Record<ComponentName, number> = { auth: 8081, message: 8082, notification: 8083 };
export const METRICS_PREFIX: Record<ComponentName, string> = {
  auth: 'chat_auth',
  message: 'chat_message',
  notification: 'chat_notification',
};

export const FEATURE_FLAGS_DIR = '/etc/chatcluster/flags';
export const FEATURE_FLAGS_KEY = 'flags.json';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export const componentName = (cluster: ChatCluster, component: ComponentName): string =>
  `${cluster.metadata.name}-${component}`;

/** Labels that select a component's pods. Never change them: Deployment selectors are immutable. */
export function selectorLabels(cluster: ChatCluster, component: ComponentName): Record<string, string> {
  return {
    'app.kubernetes.io/name': component,
    'app.kubernetes.io/instance': cluster.metadata.name,
  };
}

export function clusterLabels(cluster: ChatCluster): Record<string, string> {
  return {
    'app.kubernetes.io/instance': cluster.metadata.name,
    'app.kubernetes.io/part-of': 'chatcluster',
    'app.kubernetes.io/managed-by': MANAGED_BY,
    [CLUSTER_LABEL]: cluster.metadata.name,
  };
}

export function componentLabels(cluster: ChatCluster, component: ComponentName): Record<string, string> {
  return {
    ...clusterLabels(cluster),
    ...selectorLabels(cluster, component),
    [COMPONENT_LABEL]: component,
    'app.kubernetes.io/version': cluster.spec.image.version,
  };
}

export function ownerReference(cluster: ChatCluster): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: cluster.metadata.name,
    uid: cluster.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata for a child object: namespace, labels and the controller owner reference. */
export function childMeta(
  cluster: ChatCluster,
  name: string,
  labels: Record<string, string>,
  annotations?: Record<string, string>,
): KubeObject['metadata'] {
  return {
    name,
    namespace: cluster.metadata.namespace,
    labels,
    ...(annotations ? { annotations } : {}),
    ownerReferences: [ownerReference(cluster)],
  };
}

export const serviceUrl = (cluster: ChatCluster, component: ComponentName): string =>
  `http://${componentName(cluster, component)}.${cluster.metadata.namespace}.svc:${PORTS[component]}`;
