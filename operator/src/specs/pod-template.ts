// The pod template of a component: probes on the kit's health endpoints, a preStop wait and the grace
// period for draining WebSockets, the restricted Pod Security profile, resources, topology spread,
// Secret-backed connection strings, the configuration ConfigMap (checksummed) and the feature-flag file.
import type { ChatCluster, ComponentName } from '../api/types.js';
import { configMap, configMapName, dataChecksum, featureFlagsConfigMapName } from './config-maps.js';
import {
  KEY_ENCRYPTION_ACTIVE_ID_KEY,
  KEY_ENCRYPTION_KEYS_KEY,
  internalApiTokenRef,
  keyEncryptionSecret,
} from './generated-secrets.js';
import {
  CONFIG_CHECKSUM_ANNOTATION,
  FEATURE_FLAGS_DIR,
  PORTS,
  REFERENCED_DATA_CHECKSUM_ANNOTATION,
  componentLabels,
  componentName,
  selectorLabels,
} from './meta.js';
import {
  referencedDataChecksum,
  referencedDataSources,
  type DataDigests,
  type DataSource,
} from './referenced-data.js';

type EnvVar = {
  name: string;
  valueFrom: { secretKeyRef: { name: string; key: string; optional?: boolean } };
};

const secretEnv = (name: string, secret: string, key: string, optional?: true): EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key, ...(optional ? { optional } : {}) } },
});

/**
 * Connection strings and credentials, read from the Secrets the ChatCluster references or, for the
 * internal API token and the key-encryption keys, from the Secrets the operator generated.
 */
export function secretEnvironment(cluster: ChatCluster, component: ComponentName): EnvVar[] {
  const { dataStores, notification } = cluster.spec;
  const env: EnvVar[] = [];
  if (component === 'auth') {
    env.push(
      secretEnv('POSTGRES_URL', dataStores.postgres.secretRef.name, dataStores.postgres.secretRef.key),
    );
    const keyEncryption = keyEncryptionSecret(cluster);
    env.push(secretEnv('KEY_ENCRYPTION_KEYS', keyEncryption, KEY_ENCRYPTION_KEYS_KEY));
    // Optional in the Secret: with a single key listed, that key is the active one.
    env.push(secretEnv('KEY_ENCRYPTION_KEY_ID', keyEncryption, KEY_ENCRYPTION_ACTIVE_ID_KEY, true));
  }
  if (component === 'message') {
    env.push(secretEnv('MONGO_URL', dataStores.mongodb.secretRef.name, dataStores.mongodb.secretRef.key));
  }
  env.push(secretEnv('REDIS_URL', dataStores.redis.secretRef.name, dataStores.redis.secretRef.key));
  // Every component: auth requires it on its internal API, message and notification present it.
  const token = internalApiTokenRef(cluster);
  env.push(secretEnv('INTERNAL_API_TOKEN', token.name, token.key));
  if (component === 'notification') {
    if (notification.fcm) {
      env.push(secretEnv('FCM_PROJECT_ID', notification.fcm.secretRef.name, 'projectId'));
      // One of the two, by which key the Secret has: a service-account key (tokens fetched and
      // refreshed by the service) or a fixed access token (dies within the hour).
      env.push(
        secretEnv('FCM_SERVICE_ACCOUNT_CREDENTIALS', notification.fcm.secretRef.name, 'serviceAccount', true),
      );
      env.push(secretEnv('FCM_ACCESS_TOKEN', notification.fcm.secretRef.name, 'accessToken', true));
    }
    if (notification.sendgrid) {
      env.push(secretEnv('SENDGRID_API_KEY', notification.sendgrid.secretRef.name, 'apiKey'));
    }
  }
  return env;
}

export const RESTRICTED_CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export const RESTRICTED_POD_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  fsGroup: 10001,
  seccompProfile: { type: 'RuntimeDefault' },
};

/** The Secrets and ConfigMaps a component's pods read that the operator does not build itself. */
export function podDataSources(cluster: ChatCluster, component: ComponentName): DataSource[] {
  return dataSourcesOf(cluster, component, podTemplateWithoutDataChecksum(cluster, component));
}

const dataSourcesOf = (
  cluster: ChatCluster,
  component: ComponentName,
  template: { spec: Record<string, unknown> },
): DataSource[] =>
  referencedDataSources(
    template.spec,
    new Set([configMapName(cluster, component), featureFlagsConfigMapName(cluster)]),
  );

/** The pod template, with the checksum of what podDataSources names (digests read by the controller;
 * a source missing from `digests` counts as absent). */
export function podTemplate(
  cluster: ChatCluster,
  component: ComponentName,
  digests: DataDigests = new Map(),
): Record<string, unknown> {
  const template = podTemplateWithoutDataChecksum(cluster, component);
  const checksum = referencedDataChecksum(dataSourcesOf(cluster, component, template), digests);
  template.metadata.annotations[REFERENCED_DATA_CHECKSUM_ANNOTATION] = checksum;
  return template;
}

function podTemplateWithoutDataChecksum(cluster: ChatCluster, component: ComponentName) {
  const spec = cluster.spec;
  const settings = spec.components[component];
  const name = componentName(cluster, component);
  const checksum = dataChecksum(configMap(cluster, component).data as Record<string, string>);
  const resources: Record<string, Record<string, string>> = { requests: { ...settings.resources.requests } };
  if (settings.resources.limits && Object.keys(settings.resources.limits).length > 0) {
    resources.limits = { ...settings.resources.limits };
  }
  const env: Record<string, unknown>[] = [
    // Pod name as instance id: the message service registers WebSocket owners under it.
    { name: 'INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ...secretEnvironment(cluster, component),
  ];
  const spreadSelector = { matchLabels: selectorLabels(cluster, component) };
  return {
    metadata: {
      labels: componentLabels(cluster, component),
      annotations: { [CONFIG_CHECKSUM_ANNOTATION]: checksum } as Record<string, string>,
    },
    spec: {
      serviceAccountName: name,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      securityContext: RESTRICTED_POD_SECURITY_CONTEXT,
      ...(spec.image.pullSecrets?.length
        ? { imagePullSecrets: spec.image.pullSecrets.map((secret) => ({ name: secret })) }
        : {}),
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: spreadSelector,
        },
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: spreadSelector,
        },
      ],
      containers: [
        {
          name: component,
          image: `${spec.image.repository}/${component}:${settings.version ?? spec.image.version}`,
          imagePullPolicy: spec.image.pullPolicy,
          ports: [{ name: 'http', containerPort: PORTS[component], protocol: 'TCP' }],
          envFrom: [{ configMapRef: { name: configMapName(cluster, component) } }],
          env,
          resources,
          securityContext: RESTRICTED_CONTAINER_SECURITY_CONTEXT,
          // Generous start-up window; liveness only takes over once started, so a slow start is not a crash loop.
          startupProbe: {
            httpGet: { path: '/health/liveness', port: 'http' },
            periodSeconds: 2,
            timeoutSeconds: 1,
            failureThreshold: 30,
          },
          livenessProbe: {
            httpGet: { path: '/health/liveness', port: 'http' },
            periodSeconds: 10,
            timeoutSeconds: 2,
            failureThreshold: 3,
          },
          // Readiness checks dependencies with up to 2 s timeouts, hence 3 s.
          readinessProbe: {
            httpGet: { path: '/health/readiness', port: 'http' },
            periodSeconds: 5,
            timeoutSeconds: 3,
            failureThreshold: 2,
            successThreshold: 1,
          },
          // Wait before SIGTERM, so endpoints and load balancers drop the pod before it stops accepting.
          ...(spec.preStopDelaySeconds > 0
            ? { lifecycle: { preStop: { sleep: { seconds: spec.preStopDelaySeconds } } } }
            : {}),
          volumeMounts: [
            { name: 'feature-flags', mountPath: FEATURE_FLAGS_DIR, readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
          ],
          terminationMessagePolicy: 'FallbackToLogsOnError',
        },
      ],
      volumes: [
        { name: 'feature-flags', configMap: { name: featureFlagsConfigMapName(cluster) } },
        { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
      ],
    },
  };
}
