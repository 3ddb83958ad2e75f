// The ChatCluster's status, computed from its workloads as the informers see them. Pure, so every
// transition is unit-tested. Conditions follow the Kubernetes convention: Ready (what `kubectl wait
// --for=condition=Ready` waits for), Progressing, Degraded, plus Fallback for missing optional CRDs;
// lastTransitionTime changes only when a condition's status does.
import {
  COMPONENTS,
  type ChatCluster,
  type ChatClusterStatus,
  type ComponentName,
  type ComponentStatus,
  type Condition,
} from '../api/types.js';
import { usesCanary, type Capabilities } from '../specs/capabilities.js';
import { stableJson } from '../util/stable-json.js';
import { describeFallback } from './discovery.js';

interface WorkloadStatus {
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  phase?: string;
  message?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

export interface Workload {
  metadata: { generation?: number };
  spec?: { replicas?: number };
  status?: WorkloadStatus;
}

export interface StatusInput {
  cluster: ChatCluster;
  caps: Capabilities;
  /** The Deployment (RollingUpdate) or Rollout (Canary) of each component, if it exists. */
  workloads: Partial<Record<ComponentName, Workload>>;
  /** Why the last apply or prune failed, if it did. */
  reconcileError?: string;
  now: string;
}

type Health = { state: 'ready' | 'progressing' | 'degraded' | 'missing'; detail: string };

function componentHealth(name: ComponentName, workload: Workload | undefined, rollout: boolean): Health {
  if (!workload)
    return { state: 'missing', detail: `${name}: ${rollout ? 'Rollout' : 'Deployment'} not created yet` };
  const status = workload.status ?? {};
  const desired = workload.spec?.replicas ?? 1;
  const ready = status.readyReplicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  if (rollout) {
    const phase = status.phase ?? 'Progressing';
    if (phase === 'Degraded') {
      return {
        state: 'degraded',
        detail: `${name}: Rollout degraded${status.message ? `: ${status.message}` : ''}`,
      };
    }
    if (phase === 'Healthy' && ready >= desired)
      return { state: 'ready', detail: `${name}: ${ready}/${desired} ready` };
    return {
      state: 'progressing',
      detail: `${name}: Rollout ${phase}, ${ready}/${desired} ready${status.message ? ` (${status.message})` : ''}`,
    };
  }
  const failed = (status.conditions ?? []).find(
    (c) =>
      (c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded') ||
      (c.type === 'ReplicaFailure' && c.status === 'True'),
  );
  if (failed) {
    return {
      state: 'degraded',
      detail: `${name}: ${failed.reason ?? failed.type}${failed.message ? `: ${failed.message}` : ''}`,
    };
  }
  const current = (status.observedGeneration ?? 0) >= (workload.metadata.generation ?? 0);
  if (current && updated >= desired && ready >= desired && (status.replicas ?? 0) <= desired) {
    return { state: 'ready', detail: `${name}: ${ready}/${desired} ready` };
  }
  return {
    state: 'progressing',
    detail: `${name}: ${updated}/${desired} updated, ${ready}/${desired} ready`,
  };
}

const condition = (
  type: string,
  ok: boolean,
  reason: string,
  message: string,
  generation: number | undefined,
  now: string,
): Condition => ({
  type,
  status: ok ? 'True' : 'False',
  reason,
  message,
  ...(generation !== undefined ? { observedGeneration: generation } : {}),
  lastTransitionTime: now,
});

export function computeStatus(input: StatusInput): ChatClusterStatus {
  const { cluster, caps, workloads, now } = input;
  const generation = cluster.metadata.generation;
  const rollout = usesCanary(cluster, caps);
  const components: Partial<Record<ComponentName, ComponentStatus>> = {};
  const health = COMPONENTS.map((name) => {
    const workload = workloads[name];
    if (workload) {
      components[name] = {
        replicas: workload.spec?.replicas ?? workload.status?.replicas ?? 0,
        readyReplicas: workload.status?.readyReplicas ?? 0,
        updatedReplicas: workload.status?.updatedReplicas ?? 0,
        workload: rollout ? 'Rollout' : 'Deployment',
        ...(rollout && workload.status?.phase ? { rolloutPhase: workload.status.phase } : {}),
      };
    }
    return componentHealth(name, workload, rollout);
  });
  const notReady = health.filter((h) => h.state !== 'ready');
  const degraded = health.filter((h) => h.state === 'degraded');
  const allReady = notReady.length === 0;
  const paused = cluster.spec.paused;

  const conditions: Condition[] = [
    allReady
      ? condition(
          'Ready',
          true,
          'AllComponentsReady',
          health.map((h) => h.detail).join('; '),
          generation,
          now,
        )
      : condition(
          'Ready',
          false,
          'ComponentsNotReady',
          notReady.map((h) => h.detail).join('; '),
          generation,
          now,
        ),
  ];
  if (paused) {
    conditions.push(
      condition(
        'Progressing',
        false,
        'ReconciliationPaused',
        'spec.paused is true: children are not changed',
        generation,
        now,
      ),
    );
  } else if (!allReady && degraded.length < notReady.length) {
    conditions.push(
      condition(
        'Progressing',
        true,
        'RolloutInProgress',
        notReady
          .filter((h) => h.state !== 'degraded')
          .map((h) => h.detail)
          .join('; '),
        generation,
        now,
      ),
    );
  } else {
    conditions.push(
      condition('Progressing', false, 'RolloutComplete', 'no rollout in progress', generation, now),
    );
  }
  if (input.reconcileError) {
    conditions.push(condition('Degraded', true, 'ReconcileFailed', input.reconcileError, generation, now));
  } else if (degraded.length > 0) {
    conditions.push(
      condition(
        'Degraded',
        true,
        'ComponentDegraded',
        degraded.map((h) => h.detail).join('; '),
        generation,
        now,
      ),
    );
  } else {
    conditions.push(condition('Degraded', false, 'AsExpected', 'no component is degraded', generation, now));
  }
  const fallback = describeFallback(caps, {
    canary: cluster.spec.rollout.strategy === 'Canary',
    monitoring: cluster.spec.monitoring.enabled,
  });
  conditions.push(
    fallback
      ? condition('Fallback', true, fallback.reason, fallback.message, generation, now)
      : condition(
          'Fallback',
          false,
          'AllFeaturesAvailable',
          'every optional feature asked for is installed',
          generation,
          now,
        ),
  );

  const isDegraded = conditions.some((c) => c.type === 'Degraded' && c.status === 'True');
  const phase = paused
    ? 'Paused'
    : isDegraded
      ? 'Degraded'
      : allReady
        ? 'Ready'
        : health.every((h) => h.state === 'missing')
          ? 'Pending'
          : 'Progressing';
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    phase,
    conditions: keepTransitionTimes(cluster.status?.conditions ?? [], conditions),
    components,
  };
}

/** A condition whose status did not change keeps its previous lastTransitionTime. */
export function keepTransitionTimes(previous: Condition[], next: Condition[]): Condition[] {
  return next.map((c) => {
    const before = previous.find((p) => p.type === c.type);
    return before && before.status === c.status ? { ...c, lastTransitionTime: before.lastTransitionTime } : c;
  });
}

/** True when the status differs from the stored one in anything but the order of conditions. */
export function statusChanged(stored: ChatClusterStatus | undefined, next: ChatClusterStatus): boolean {
  if (!stored) return true;
  const normalise = (s: ChatClusterStatus) => ({
    observedGeneration: s.observedGeneration,
    phase: s.phase,
    components: s.components ?? {},
    conditions: [...(s.conditions ?? [])]
      .sort((a, b) => a.type.localeCompare(b.type))
      .map((c) => ({
        type: c.type,
        status: c.status,
        reason: c.reason,
        message: c.message,
        observedGeneration: c.observedGeneration,
        lastTransitionTime: c.lastTransitionTime,
      })),
  });
  return stableJson(normalise(stored)) !== stableJson(normalise(next));
}
