// What should run: the Deployments and Rollouts in the API server, turned into one shape. A Rollout
// with a workloadRef takes its pod template from the referenced Deployment and owns the pods, so that
// Deployment is not run on its own (Argo scales it down); a Rollout with an inline template runs that.
import { createHash } from 'node:crypto';
import type { ClusterView } from './watch.js';
import type { IntOrPercent, PodTemplate } from './types.js';

export interface WorkloadSpec {
  /** `<namespace>/<Kind>/<name>` */
  key: string;
  kind: 'Deployment' | 'Rollout';
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  /** The referenced Deployment's generation, for a Rollout with a workloadRef. */
  workloadGeneration?: number;
  replicas: number;
  template: PodTemplate;
  /** Changes with any change of the pod template: replicas of another hash are replaced. */
  templateHash: string;
  /** The label a replica of this template carries (`pod-template-hash` or Argo's). */
  hashLabel: string;
  selector: Record<string, string>;
  minReadySeconds: number;
  progressDeadlineSeconds: number;
  maxSurge: number;
  maxUnavailable: number;
}

/** Stable JSON (sorted keys), so the hash does not depend on the order the server sends fields in. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function templateHash(template: PodTemplate): string {
  return createHash('sha256').update(stableJson(template)).digest('hex').slice(0, 10);
}

/** maxSurge / maxUnavailable: an integer, or a percentage of the replicas (surge rounds up, unavailable down). */
export function resolveIntOrPercent(
  value: IntOrPercent | undefined,
  replicas: number,
  fallback: IntOrPercent,
  roundUp: boolean,
): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const match = /^(\d+)%$/.exec(v);
  if (!match) return Number.parseInt(v, 10) || 0;
  const exact = (Number(match[1]) * replicas) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

function bounds(
  replicas: number,
  surge: IntOrPercent | undefined,
  unavailable: IntOrPercent | undefined,
): { maxSurge: number; maxUnavailable: number } {
  const maxSurge = resolveIntOrPercent(surge, replicas, '25%', true);
  const maxUnavailable = resolveIntOrPercent(unavailable, replicas, '25%', false);
  // As the Deployment controller does: both zero would never progress, so surge one.
  return maxSurge === 0 && maxUnavailable === 0
    ? { maxSurge: 1, maxUnavailable: 0 }
    : { maxSurge, maxUnavailable };
}

export function desiredWorkloads(view: ClusterView): WorkloadSpec[] {
  const workloads: WorkloadSpec[] = [];
  const takenOver = new Set<string>();
  for (const rollout of view.rollouts?.list() ?? []) {
    const namespace = rollout.metadata.namespace ?? 'default';
    const ref = rollout.spec.workloadRef;
    let template = rollout.spec.template;
    let workloadGeneration: number | undefined;
    if (ref && ref.kind === 'Deployment') {
      takenOver.add(`${namespace}/${ref.name}`);
      const deployment = view.deployments.get(namespace, ref.name);
      template = deployment?.spec.template;
      workloadGeneration = deployment?.metadata.generation;
    }
    // A Rollout whose Deployment does not exist yet has nothing to run.
    if (!template) continue;
    const replicas = rollout.spec.replicas ?? 1;
    const canary = rollout.spec.strategy?.canary;
    workloads.push({
      key: `${namespace}/Rollout/${rollout.metadata.name}`,
      kind: 'Rollout',
      namespace,
      name: rollout.metadata.name,
      uid: rollout.metadata.uid ?? '',
      generation: rollout.metadata.generation ?? 0,
      ...(workloadGeneration !== undefined ? { workloadGeneration } : {}),
      replicas,
      template,
      templateHash: templateHash(template),
      hashLabel: 'rollouts-pod-template-hash',
      selector: rollout.spec.selector?.matchLabels ?? {},
      minReadySeconds: rollout.spec.minReadySeconds ?? 0,
      progressDeadlineSeconds: rollout.spec.progressDeadlineSeconds ?? 600,
      // Argo's canary defaults: surge 25 %, unavailable 25 %.
      ...bounds(replicas, canary?.maxSurge, canary?.maxUnavailable),
    });
  }
  for (const deployment of view.deployments.list()) {
    const namespace = deployment.metadata.namespace ?? 'default';
    if (takenOver.has(`${namespace}/${deployment.metadata.name}`)) continue;
    const replicas = deployment.spec.replicas ?? 1;
    const rolling = deployment.spec.strategy?.rollingUpdate;
    const recreate = deployment.spec.strategy?.type === 'Recreate';
    workloads.push({
      key: `${namespace}/Deployment/${deployment.metadata.name}`,
      kind: 'Deployment',
      namespace,
      name: deployment.metadata.name,
      uid: deployment.metadata.uid ?? '',
      generation: deployment.metadata.generation ?? 0,
      replicas,
      template: deployment.spec.template,
      templateHash: templateHash(deployment.spec.template),
      hashLabel: 'pod-template-hash',
      selector: deployment.spec.selector?.matchLabels ?? {},
      minReadySeconds: deployment.spec.minReadySeconds ?? 0,
      progressDeadlineSeconds: deployment.spec.progressDeadlineSeconds ?? 600,
      ...(recreate
        ? { maxSurge: 0, maxUnavailable: replicas }
        : bounds(replicas, rolling?.maxSurge, rolling?.maxUnavailable)),
    });
  }
  return workloads;
}
