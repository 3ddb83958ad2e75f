// The status a workload controller would write, from the local replicas: Deployment status as the
// Deployment controller writes it (counts, observedGeneration, Available and Progressing conditions,
// ProgressDeadlineExceeded), and Rollout status with the fields the operator reads (phase Healthy /
// Progressing / Degraded, readyReplicas, updatedReplicas) plus what `kubectl argo rollouts` shows.
// Pure, so the transitions are unit-tested.
import type { WorkloadSpec } from './workloads.js';

export interface ReplicaState {
  hash: string;
  ready: boolean;
  available: boolean;
  terminating: boolean;
}

export interface Counts {
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
}

export interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

export function countReplicas(replicas: readonly ReplicaState[], templateHash: string): Counts {
  const live = replicas.filter((r) => !r.terminating);
  return {
    replicas: live.length,
    updatedReplicas: live.filter((r) => r.hash === templateHash).length,
    readyReplicas: live.filter((r) => r.ready).length,
    availableReplicas: live.filter((r) => r.available).length,
  };
}

/** Every replica is of the current template, available, and there are exactly as many as asked. */
export function isComplete(counts: Counts, desired: number): boolean {
  return (
    counts.updatedReplicas === desired && counts.availableReplicas === desired && counts.replicas === desired
  );
}

/** Keeps the times of a condition whose status (transition) or reason (update) did not change. */
function withTimes(
  next: Omit<Condition, 'lastUpdateTime' | 'lastTransitionTime'>,
  previous: readonly Condition[],
  now: string,
): Condition {
  const before = previous.find((c) => c.type === next.type);
  const transition = before && before.status === next.status ? before.lastTransitionTime : now;
  const update =
    before && before.status === next.status && before.reason === next.reason ? before.lastUpdateTime : now;
  return { ...next, lastUpdateTime: update, lastTransitionTime: transition };
}

export interface StatusInput {
  workload: WorkloadSpec;
  counts: Counts;
  /** No progress for progressDeadlineSeconds while incomplete. */
  deadlineExceeded: boolean;
  previousConditions: readonly Condition[];
  now: string;
}

function progressing(
  input: StatusInput,
  replicaSet: string,
): Omit<Condition, 'lastUpdateTime' | 'lastTransitionTime'> {
  if (isComplete(input.counts, input.workload.replicas)) {
    return {
      type: 'Progressing',
      status: 'True',
      reason: 'NewReplicaSetAvailable',
      message: `ReplicaSet "${replicaSet}" has successfully progressed.`,
    };
  }
  if (input.deadlineExceeded) {
    return {
      type: 'Progressing',
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: `ReplicaSet "${replicaSet}" has timed out progressing.`,
    };
  }
  return {
    type: 'Progressing',
    status: 'True',
    reason: 'ReplicaSetUpdated',
    message: `ReplicaSet "${replicaSet}" is progressing.`,
  };
}

function available(
  input: StatusInput,
  what: string,
): Omit<Condition, 'lastUpdateTime' | 'lastTransitionTime'> {
  const ok = input.counts.availableReplicas >= input.workload.replicas - input.workload.maxUnavailable;
  return ok
    ? {
        type: 'Available',
        status: 'True',
        reason: 'MinimumReplicasAvailable',
        message: `${what} has minimum availability.`,
      }
    : {
        type: 'Available',
        status: 'False',
        reason: 'MinimumReplicasUnavailable',
        message: `${what} does not have minimum availability.`,
      };
}

export function deploymentStatus(input: StatusInput): Record<string, unknown> {
  const { workload, counts, previousConditions, now } = input;
  const replicaSet = `${workload.name}-${workload.templateHash}`;
  const unavailable = Math.max(0, Math.max(workload.replicas, counts.replicas) - counts.availableReplicas);
  return {
    observedGeneration: workload.generation,
    replicas: counts.replicas,
    updatedReplicas: counts.updatedReplicas,
    readyReplicas: counts.readyReplicas,
    availableReplicas: counts.availableReplicas,
    ...(unavailable > 0 ? { unavailableReplicas: unavailable } : {}),
    conditions: [
      withTimes(available(input, 'Deployment'), previousConditions, now),
      withTimes(progressing(input, replicaSet), previousConditions, now),
    ],
  };
}

export function rolloutStatus(input: StatusInput & { previousStableRS?: string }): Record<string, unknown> {
  const { workload, counts, previousConditions, now } = input;
  const complete = isComplete(counts, workload.replicas);
  const replicaSet = `${workload.name}-${workload.templateHash}`;
  const phase = complete ? 'Healthy' : input.deadlineExceeded ? 'Degraded' : 'Progressing';
  const message = complete
    ? undefined
    : input.deadlineExceeded
      ? `ProgressDeadlineExceeded: ReplicaSet "${replicaSet}" has timed out progressing.`
      : counts.updatedReplicas < workload.replicas
        ? 'more replicas need to be updated'
        : counts.availableReplicas < workload.replicas
          ? 'updated replicas are still becoming available'
          : 'old replicas are pending termination';
  const stableRS = complete ? workload.templateHash : input.previousStableRS;
  const selector = Object.entries(workload.selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return {
    observedGeneration: String(workload.generation),
    ...(workload.workloadGeneration !== undefined
      ? { workloadObservedGeneration: String(workload.workloadGeneration) }
      : {}),
    phase,
    ...(message ? { message } : {}),
    replicas: counts.replicas,
    updatedReplicas: counts.updatedReplicas,
    readyReplicas: counts.readyReplicas,
    availableReplicas: counts.availableReplicas,
    HPAReplicas: counts.replicas,
    selector,
    currentPodHash: workload.templateHash,
    ...(stableRS ? { stableRS } : {}),
    conditions: [
      withTimes(available(input, 'Rollout'), previousConditions, now),
      withTimes(progressing(input, replicaSet), previousConditions, now),
      withTimes(
        complete
          ? { type: 'Healthy', status: 'True', reason: 'RolloutHealthy', message: 'Rollout is healthy' }
          : { type: 'Healthy', status: 'False', reason: 'RolloutHealthy', message: 'Rollout is not healthy' },
        previousConditions,
        now,
      ),
    ],
  };
}
