// What keeps a component available while the cluster changes under it: a PodDisruptionBudget for
// drains and a HorizontalPodAutoscaler for load. Plus the component's ServiceAccount.
import type { ChatCluster, ComponentName } from '../api/types.js';
import { usesCanary, type Capabilities } from './capabilities.js';
import { childMeta, componentLabels, componentName, selectorLabels, type KubeObject } from './meta.js';

export function podDisruptionBudget(cluster: ChatCluster, component: ComponentName): KubeObject {
  const budget = cluster.spec.components[component].disruptionBudget;
  const limit =
    budget?.minAvailable !== undefined
      ? { minAvailable: budget.minAvailable }
      : { maxUnavailable: budget?.maxUnavailable ?? 1 };
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(cluster, componentName(cluster, component), componentLabels(cluster, component)),
    spec: {
      ...limit,
      selector: { matchLabels: selectorLabels(cluster, component) },
      // Evicting a pod that is not ready yet never costs availability, so a crash-looping pod does not block drains.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}

export function horizontalPodAutoscaler(
  cluster: ChatCluster,
  component: ComponentName,
  caps: Capabilities,
): KubeObject | undefined {
  const autoscaling = cluster.spec.components[component].autoscaling;
  if (!autoscaling.enabled) return undefined;
  const name = componentName(cluster, component);
  const target = usesCanary(cluster, caps)
    ? { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name }
    : { apiVersion: 'apps/v1', kind: 'Deployment', name };
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMeta(cluster, name, componentLabels(cluster, component)),
    spec: {
      scaleTargetRef: target,
      minReplicas: autoscaling.minReplicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: autoscaling.targetCPUUtilizationPercentage },
          },
        },
      ],
      // Scale down slowly: every removed message pod drops its WebSockets, which all reconnect at once.
      behavior: {
        scaleDown: {
          stabilizationWindowSeconds: 300,
          policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
        },
      },
    },
  };
}

export function serviceAccount(cluster: ChatCluster, component: ComponentName): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: childMeta(cluster, componentName(cluster, component), componentLabels(cluster, component)),
    // The services never call the Kubernetes API, so they get no token.
    automountServiceAccountToken: false,
  };
}
