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

interface AnalysisRunRef {
  name: string;
  status?: string;
  message?: string;
}

interface WorkloadStatus {
  replicas?: number;
  readyReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  /** A number for Deployments; a string for Argo Rollouts (strconv.Itoa of the generation). */
  observedGeneration?: number | string;
  phase?: string;
  message?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  // Argo Rollouts only:
  abort?: boolean;
  currentStepIndex?: number;
  pauseConditions?: { reason: string; startTime?: string }[];
  /** The generation of the workloadRef Deployment Argo last saw, as a string. */
  workloadObservedGeneration?: string;
  stableRS?: string;
  currentPodHash?: string;
  canary?: {
    currentBackgroundAnalysisRunStatus?: AnalysisRunRef;
    currentStepAnalysisRunStatus?: AnalysisRunRef;
  };
}

export interface Workload {
  metadata: { generation?: number };
  spec?: { replicas?: number; strategy?: { canary?: { steps?: Record<string, unknown>[] } } };
  status?: WorkloadStatus;
}

/** What the operator read from the AnalysisRun that aborted a component's canary. */
export interface AnalysisRunVerdict {
  name: string;
  phase?: string;
  message?: string;
  /** Names of the metrics whose result is Failed or Error. */
  failedMetrics: string[];
}

export interface StatusInput {
  cluster: ChatCluster;
  caps: Capabilities;
  /** The Deployment (RollingUpdate) or Rollout (Canary) of each component, if it exists. */
  workloads: Partial<Record<ComponentName, Workload>>;
  /** Under a Rollout: metadata.generation of the Deployment its workloadRef names. */
  referencedGenerations?: Partial<Record<ComponentName, number>>;
  /** The AnalysisRun of an aborted canary, when the operator could read it. */
  analysisRuns?: Partial<Record<ComponentName, AnalysisRunVerdict>>;
  /** Why the last apply or prune failed, if it did. */
  reconcileError?: string;
  now: string;
}

type State = 'ready' | 'canary' | 'paused' | 'aborted' | 'progressing' | 'degraded' | 'missing';
interface Health {
  state: State;
  /** Pods enough are available to serve (the stable version during a canary). */
  serving: boolean;
  detail: string;
  /** For a canary: the ChatCluster step it is at (1-based). */
  step?: number;
}

/** The AnalysisRun a Rollout reports, background first. */
export const analysisRunOf = (workload: Workload | undefined): AnalysisRunRef | undefined =>
  workload?.status?.canary?.currentBackgroundAnalysisRunStatus ??
  workload?.status?.canary?.currentStepAnalysisRunStatus;

/** Argo aborted the canary (a failed analysis, a progress deadline, or a person). */
export const canaryAborted = (workload: Workload | undefined): boolean => {
  const status = workload?.status;
  if (!status) return false;
  return (
    status.abort === true || (status.phase === 'Degraded' && /^RolloutAborted\b/.test(status.message ?? ''))
  );
};

/** The metric that failed, from the AnalysisRun's results, else from Argo's message. */
export function failingMetrics(
  workload: Workload | undefined,
  run: AnalysisRunVerdict | undefined,
): string[] {
  if (run && run.failedMetrics.length > 0) return run.failedMetrics;
  const text = `${run?.message ?? ''} ${analysisRunOf(workload)?.message ?? ''} ${workload?.status?.message ?? ''}`;
  const named = [...text.matchAll(/Metric "([^"]+)" assessed (?:Failed|Error)/g)].map((m) => m[1]!);
  return [...new Set(named)];
}

/** Which of the ChatCluster's steps (1-based) Argo's step index is in, its weight, and how many. */
export function canaryStep(
  steps: Record<string, unknown>[],
  index: number,
): { step: number; of: number; weight: number | undefined } {
  const weights = steps.filter((s) => typeof s.setWeight === 'number');
  let step = 0;
  let weight: number | undefined;
  for (const s of steps.slice(0, index + 1)) {
    if (typeof s.setWeight === 'number') {
      step += 1;
      weight = s.setWeight;
    }
  }
  return { step: Math.max(step, 1), of: weights.length, weight };
}

const asNumber = (value: number | string | undefined): number | undefined => {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isInteger(n) ? n : undefined;
};

function rolloutHealth(
  name: ComponentName,
  workload: Workload,
  referencedGeneration: number | undefined,
  run: AnalysisRunVerdict | undefined,
): Health {
  const status = workload.status ?? {};
  const desired = workload.spec?.replicas ?? 1;
  const available = status.availableReplicas ?? status.readyReplicas ?? 0;
  const serving = available >= desired;
  const phase = status.phase ?? 'Progressing';
  if (canaryAborted(workload)) {
    const metrics = failingMetrics(workload, run);
    const analysis = run ?? analysisRunOf(workload);
    return {
      state: 'aborted',
      serving,
      detail:
        `${name}: canary aborted` +
        (metrics.length > 0 ? `, failing metric ${metrics.join(', ')}` : '') +
        (analysis ? ` (AnalysisRun ${analysis.name})` : '') +
        (status.message ? `: ${status.message}` : '') +
        (serving
          ? `; the stable version serves ${available}/${desired}`
          : `; ${available}/${desired} available`),
    };
  }
  if (phase === 'Degraded') {
    return {
      state: 'degraded',
      serving,
      detail: `${name}: Rollout degraded${status.message ? `: ${status.message}` : ''}`,
    };
  }
  // Argo's status describes the spec it last saw: an older generation of the Rollout, or of the
  // Deployment its workloadRef names, says nothing about the current one.
  const observed = asNumber(status.observedGeneration);
  const generation = workload.metadata.generation ?? 0;
  if (observed === undefined || observed < generation) {
    return {
      state: 'progressing',
      serving: serving && !!status.stableRS,
      detail: `${name}: Rollout generation ${generation} not yet observed by Argo Rollouts (status is of ${observed ?? 'none'})`,
    };
  }
  const workloadObserved = asNumber(status.workloadObservedGeneration);
  if (referencedGeneration !== undefined && (workloadObserved ?? 0) < referencedGeneration) {
    return {
      state: 'progressing',
      serving: serving && !!status.stableRS,
      detail: `${name}: Deployment generation ${referencedGeneration} not yet observed by Argo Rollouts`,
    };
  }
  const inCanary = !!status.stableRS && !!status.currentPodHash && status.stableRS !== status.currentPodHash;
  if (inCanary) {
    const steps = workload.spec?.strategy?.canary?.steps ?? [];
    const { step, of, weight } = canaryStep(steps, status.currentStepIndex ?? 0);
    const share =
      `${status.updatedReplicas ?? 0} of ${status.replicas ?? 0} pods on the new version` +
      (weight !== undefined ? `, ${weight} % declared` : '');
    const analysis = analysisRunOf(workload);
    const analysed = analysis ? `, analysis ${analysis.status ?? 'Pending'}` : '';
    const pause = status.pauseConditions?.[0];
    if (phase === 'Paused' && pause) {
      return {
        state: 'paused',
        serving,
        step,
        detail:
          `${name}: canary paused at step ${step}/${of} (${share}): ${pause.reason}${analysed}` +
          (pause.reason === 'InconclusiveAnalysisRun'
            ? '; too little traffic or no data to judge it: promote or abort it (kubectl argo rollouts)'
            : ''),
      };
    }
    return {
      state: 'canary',
      serving,
      step,
      detail: `${name}: canary step ${step}/${of} (${share})${analysed}`,
    };
  }
  if (phase === 'Healthy' && serving)
    return { state: 'ready', serving, detail: `${name}: ${available}/${desired} ready` };
  return {
    state: 'progressing',
    serving: serving && !!status.stableRS,
    detail: `${name}: Rollout ${phase}, ${available}/${desired} available${status.message ? ` (${status.message})` : ''}`,
  };
}

function componentHealth(
  name: ComponentName,
  workload: Workload | undefined,
  rollout: boolean,
  referencedGeneration: number | undefined,
  run: AnalysisRunVerdict | undefined,
): Health {
  if (!workload)
    return {
      state: 'missing',
      serving: false,
      detail: `${name}: ${rollout ? 'Rollout' : 'Deployment'} not created yet`,
    };
  if (rollout) return rolloutHealth(name, workload, referencedGeneration, run);
  const status = workload.status ?? {};
  const desired = workload.spec?.replicas ?? 1;
  const ready = status.readyReplicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  const failed = (status.conditions ?? []).find(
    (c) =>
      (c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded') ||
      (c.type === 'ReplicaFailure' && c.status === 'True'),
  );
  if (failed) {
    return {
      state: 'degraded',
      serving: false,
      detail: `${name}: ${failed.reason ?? failed.type}${failed.message ? `: ${failed.message}` : ''}`,
    };
  }
  const current = (asNumber(status.observedGeneration) ?? 0) >= (workload.metadata.generation ?? 0);
  if (current && updated >= desired && ready >= desired && (status.replicas ?? 0) <= desired) {
    return { state: 'ready', serving: true, detail: `${name}: ${ready}/${desired} ready` };
  }
  return {
    state: 'progressing',
    serving: false,
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
    return componentHealth(
      name,
      workload,
      rollout,
      input.referencedGenerations?.[name],
      input.analysisRuns?.[name],
    );
  });
  // Ready: every component serves (during a canary, the stable version does), so `kubectl wait
  // --for=condition=Ready` and alerts on Ready do not trip on every release.
  const notServing = health.filter((h) => !h.serving);
  const allServing = notServing.length === 0;
  const moving = health.filter((h) => ['canary', 'paused', 'progressing', 'missing'].includes(h.state));
  const aborted = health.filter((h) => h.state === 'aborted');
  const degraded = health.filter((h) => h.state === 'degraded');
  const paused = cluster.spec.paused;

  const conditions: Condition[] = [
    allServing
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
          notServing.map((h) => h.detail).join('; '),
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
  } else if (moving.length > 0) {
    const pausedCanary = moving.find((h) => h.state === 'paused');
    const canary = moving.find((h) => h.state === 'canary');
    const reason = pausedCanary ? 'CanaryPaused' : canary ? `CanaryStep${canary.step}` : 'RolloutInProgress';
    conditions.push(
      condition('Progressing', true, reason, moving.map((h) => h.detail).join('; '), generation, now),
    );
  } else {
    conditions.push(
      condition('Progressing', false, 'RolloutComplete', 'no rollout in progress', generation, now),
    );
  }
  if (input.reconcileError) {
    conditions.push(condition('Degraded', true, 'ReconcileFailed', input.reconcileError, generation, now));
  } else if (aborted.length > 0) {
    conditions.push(
      condition(
        'Degraded',
        true,
        'CanaryAborted',
        [...aborted, ...degraded].map((h) => h.detail).join('; '),
        generation,
        now,
      ),
    );
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
      : allServing && moving.length === 0
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
