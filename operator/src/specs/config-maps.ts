// The two kinds of ConfigMap a ChatCluster gets:
// - one configuration ConfigMap per component, loaded as environment variables; its checksum goes on
//   the pod template, so a change rolls the pods (environment variables are read once at start);
// - one feature-flag ConfigMap, mounted as a directory (not subPath, which never updates) that the
//   kit watches at FEATURE_FLAGS_FILE, so a flag flips without a restart.
import { createHash } from 'node:crypto';
import type { ChatCluster, ComponentName } from '../api/types.js';
import {
  FEATURE_FLAGS_DIR,
  FEATURE_FLAGS_KEY,
  PORTS,
  childMeta,
  clusterLabels,
  componentLabels,
  componentName,
  serviceUrl,
  type KubeObject,
} from './meta.js';

/** Where the message image has the chat page (apps/message/web, shipped through package.json `files`). */
export const CHAT_PAGE_DIR = '/app/apps/message/web';

export const configMapName = (cluster: ChatCluster, component: ComponentName): string =>
  `${componentName(cluster, component)}-config`;
export const featureFlagsConfigMapName = (cluster: ChatCluster): string =>
  `${cluster.metadata.name}-feature-flags`;

/** Time the kit gets to drain after SIGTERM: the grace period minus the preStop wait and a 5 s margin. */
export function shutdownTimeoutMs(cluster: ChatCluster): number {
  const { terminationGracePeriodSeconds, preStopDelaySeconds } = cluster.spec;
  return Math.max(1, terminationGracePeriodSeconds - preStopDelaySeconds - 5) * 1000;
}

/** Non-secret environment of a component (docs/architecture.md); Secrets are referenced in the pod. */
export function componentEnvironment(cluster: ChatCluster, component: ComponentName): Record<string, string> {
  const spec = cluster.spec;
  const env: Record<string, string> = {
    SERVICE_NAME: component,
    PORT: String(PORTS[component]),
    LOG_LEVEL: spec.components[component].logLevel,
    SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs(cluster)),
    FEATURE_FLAGS_FILE: `${FEATURE_FLAGS_DIR}/${FEATURE_FLAGS_KEY}`,
  };
  // Every component verifies or issues access tokens (notification's settings API verifies them too).
  env.JWT_ISSUER = spec.jwt.issuer;
  env.JWT_AUDIENCE = spec.jwt.audience;
  if (component === 'message' || component === 'notification') env.AUTH_URL = serviceUrl(cluster, 'auth');
  if (component === 'message' && spec.chatPage.enabled) env.WEB_DIR = CHAT_PAGE_DIR;
  if (component === 'notification') {
    if (spec.notification.fcm) env.FCM_BASE_URL = spec.notification.fcm.baseUrl;
    if (spec.notification.sendgrid) env.SENDGRID_BASE_URL = spec.notification.sendgrid.baseUrl;
  }
  return env;
}

export function configMap(cluster: ChatCluster, component: ComponentName): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(cluster, configMapName(cluster, component), componentLabels(cluster, component)),
    data: componentEnvironment(cluster, component),
  };
}

export function featureFlagsConfigMap(cluster: ChatCluster): KubeObject {
  // The kit's format: a flag is true/false, or a number 0-100 (the share of keys that get it).
  const entries: [string, boolean | number][] = [
    ...Object.entries(cluster.spec.featureFlags),
    ...Object.entries(cluster.spec.featureFlagPercentages),
  ];
  const flags = Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(cluster, featureFlagsConfigMapName(cluster), clusterLabels(cluster)),
    data: { [FEATURE_FLAGS_KEY]: JSON.stringify(flags, null, 2) + '\n' },
  };
}

/** sha256 of a ConfigMap's data with sorted keys, so key order never rolls pods. */
export function dataChecksum(data: Record<string, string>): string {
  const sorted = Object.keys(data)
    .sort()
    .map((k) => [k, data[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}
