// The workload of a component: a Deployment always (it carries the pod template), and with the canary
// strategy an Argo Rollout that takes the pods over through workloadRef and walks the canary steps,
// gated by the analysis templates.
import type { ChatCluster, ComponentName } from '../api/types.js';
import { analysisTemplateNames } from './analysis.js';
import { usesAnalysis, usesCanary, type Capabilities } from './capabilities.js';
import {
  CLUSTER_LABEL,
  COMPONENT_LABEL,
  childMeta,
  componentLabels,
  componentName,
  selectorLabels,
  type KubeObject,
} from './meta.js';
import { podTemplate } from './pod-template.js';
import type { DataDigests } from './referenced-data.js';

/** Replicas, unless an HPA owns the count (then leaving it out of the apply lets the HPA set it). */
function fixedReplicas(cluster: ChatCluster, component: ComponentName): { replicas?: number } {
  const settings = cluster.spec.components[component];
  return settings.autoscaling.enabled ? {} : { replicas: settings.replicas };
}

export function deployment(
  cluster: ChatCluster,
  component: ComponentName,
  caps: Capabilities,
  digests?: DataDigests,
): KubeObject {
  const canary = usesCanary(cluster, caps);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(cluster, componentName(cluster, component), componentLabels(cluster, component)),
    spec: {
      // Under a Rollout, Argo scales this Deployment down progressively as the Rollout's pods come up,
      // so the operator must not own the count.
      ...(canary ? {} : fixedReplicas(cluster, component)),
      selector: { matchLabels: selectorLabels(cluster, component) },
      minReadySeconds: 10,
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 5,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      template: podTemplate(cluster, component, digests),
    },
  };
}

/** Labels Argo puts on the component's AnalysisRuns (not managed-by: Argo creates and owns them). */
export const analysisRunLabels = (
  cluster: ChatCluster,
  component: ComponentName,
): Record<string, string> => ({
  [CLUSTER_LABEL]: cluster.metadata.name,
  [COMPONENT_LABEL]: component,
});

export function canarySteps(cluster: ChatCluster): Record<string, unknown>[] {
  return cluster.spec.rollout.canary.steps.flatMap((step) => [
    { setWeight: step.setWeight },
    ...(step.pauseSeconds ? [{ pause: { duration: `${step.pauseSeconds}s` } }] : []),
  ]);
}

export function rollout(cluster: ChatCluster, component: ComponentName, caps: Capabilities): KubeObject {
  const name = componentName(cluster, component);
  const canary: Record<string, unknown> = { maxUnavailable: 0, maxSurge: '25%', steps: canarySteps(cluster) };
  if (usesAnalysis(cluster, caps)) {
    // Background analysis: one AnalysisRun from the first step until the Rollout completes, so every
    // step is measured (the CRD requires each step below 100 % to last long enough for a verdict). A
    // failed run aborts the Rollout; an Inconclusive one (too little traffic) pauses it for a person.
    canary.analysis = {
      templates: analysisTemplateNames(cluster, component).map((templateName) => ({ templateName })),
      // From the pause of the first weight (the steps are [setWeight, pause, ...]): by then the canary's
      // pods are available and have traffic, so the first measurement judges the canary, not its start.
      startingStep: 1,
      // Labels on the AnalysisRuns, so `kubectl get analysisrun -l chatcluster.io/cluster=...` finds them.
      analysisRunMetadata: { labels: analysisRunLabels(cluster, component) },
      args: [
        { name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } },
        { name: 'stable-hash', valueFrom: { podTemplateHashValue: 'Stable' } },
      ],
    };
  }
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: childMeta(cluster, name, componentLabels(cluster, component)),
    spec: {
      ...fixedReplicas(cluster, component),
      revisionHistoryLimit: 5,
      minReadySeconds: 10,
      progressDeadlineSeconds: 600,
      progressDeadlineAbort: true,
      selector: { matchLabels: selectorLabels(cluster, component) },
      workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name, scaleDown: 'progressively' },
      strategy: { canary },
    },
  };
}
