// The ChatCluster resource as the operator reads it, after the API server applied the CRD's defaults
// (see chatcluster-crd.ts, the single source of the schema, and defaults.ts, which applies the same
// defaults for objects that did not pass through the API server, e.g. in unit tests).

export const GROUP = 'chatcluster.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'ChatCluster';
export const PLURAL = 'chatclusters';

export const COMPONENTS = ['auth', 'message', 'notification'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

export interface SecretKeyRef {
  name: string;
  key: string;
}

export interface ResourceList {
  cpu?: string;
  memory?: string;
}

export interface ComponentSpec {
  replicas: number;
  resources: { requests: ResourceList; limits?: ResourceList };
  autoscaling: {
    enabled: boolean;
    minReplicas: number;
    maxReplicas: number;
    targetCPUUtilizationPercentage: number;
  };
  disruptionBudget?: { minAvailable?: number | string; maxUnavailable?: number | string };
  logLevel: string;
  /** Overrides spec.image.version for this component. */
  version?: string;
}

export interface CanaryStep {
  setWeight: number;
  pauseSeconds?: number;
}

export interface RolloutSpec {
  strategy: 'Canary' | 'RollingUpdate';
  canary: {
    steps: CanaryStep[];
    analysis: {
      enabled: boolean;
      intervalSeconds: number;
      failureLimit: number;
      maxErrorRatePercent: number;
      maxLatencyP95Ratio: number;
      maxBurnRate: number;
      minimumEvents: number;
    };
  };
}

export interface SloObjective {
  objectivePercent: number;
}

export interface SloSpec {
  enabled: boolean;
  window: '30d' | '28d';
  messageDelivery: SloObjective & { latencyThresholdSeconds: number };
  apiAvailability: SloObjective;
  websocketStability: SloObjective;
  notificationSuccess: SloObjective;
  authAvailability: SloObjective;
}

export interface ChatClusterSpec {
  image: { repository: string; version: string; pullPolicy: string; pullSecrets?: string[] };
  paused: boolean;
  components: Record<ComponentName, ComponentSpec>;
  rollout: RolloutSpec;
  dataStores: {
    postgres: { secretRef: SecretKeyRef };
    mongodb: { secretRef: SecretKeyRef };
    redis: { secretRef: SecretKeyRef };
  };
  jwt: { issuer: string; audience: string };
  internalApiToken?: { secretRef: SecretKeyRef };
  keyEncryption?: { secretRef: { name: string } };
  ingress: {
    enabled: boolean;
    host?: string;
    className?: string;
    tlsSecretName?: string;
    sessionAffinity: { enabled: boolean; cookieName: string; maxAgeSeconds: number };
  };
  chatPage: { enabled: boolean };
  notification: {
    fcm?: { secretRef: { name: string }; baseUrl: string };
    sendgrid?: { secretRef: { name: string }; baseUrl: string };
  };
  slo: SloSpec;
  featureFlags: Record<string, boolean>;
  featureFlagPercentages: Record<string, number>;
  terminationGracePeriodSeconds: number;
  preStopDelaySeconds: number;
  monitoring: {
    enabled: boolean;
    interval: string;
    prometheusAddress: string;
    labels?: Record<string, string>;
  };
  networkPolicy: { enabled: boolean; ingressControllerNamespace: string; monitoringNamespace: string };
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface ComponentStatus {
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  workload: 'Deployment' | 'Rollout';
  rolloutPhase?: string;
}

export interface ChatClusterStatus {
  observedGeneration?: number;
  phase?: string;
  conditions?: Condition[];
  components?: Partial<Record<ComponentName, ComponentStatus>>;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface ChatCluster {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: ChatClusterSpec;
  status?: ChatClusterStatus;
}
