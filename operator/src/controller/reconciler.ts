// Reconciles one ChatCluster: build what it should own, compare with what the informers see, apply
// (server-side, one field manager, forced: the operator is the owner of these fields) only what
// differs, prune owned objects no longer desired, then write the status if it changed. A steady state
// therefore costs no request at all.
import { defaultedSpec } from '../api/defaults.js';
import { COMPONENTS, type ChatCluster, type ComponentName } from '../api/types.js';
import { isNotFound, type KubeClient } from '../kube/client.js';
import { ANALYSIS_RUN, OWNED_TYPES, resourceTypeOf, typeKey, type ResourceType } from '../kube/resources.js';
import { usesCanary, type Capabilities } from '../specs/capabilities.js';
import { desiredObjects } from '../specs/desired-state.js';
import { podDataSources } from '../specs/pod-template.js';
import { dataSourceKey, type DataSource } from '../specs/referenced-data.js';
import { stableJson } from '../util/stable-json.js';
import {
  CLUSTER_LABEL,
  DESIRED_HASH_ANNOTATION,
  MANAGED_BY,
  componentName,
  type KubeObject,
} from '../specs/meta.js';
import { isUpToDate } from './compare.js';
import { GeneratedSecrets } from './generated-secrets.js';
import type { EventRecorder, RecordedEvent } from './events.js';
import { objectKey, type CachedObject, type Informer } from './informer.js';
import type { ReferencedData } from './referenced-data.js';
import {
  analysisRunOf,
  canaryAborted,
  computeStatus,
  statusChanged,
  type AnalysisRunVerdict,
  type Workload,
} from './status.js';

export interface Log {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type ChildAction = 'created' | 'updated' | 'corrected' | 'pruned';

export interface ReconcileOutcome {
  actions: { action: ChildAction; kind: string; name: string }[];
  statusWritten: boolean;
  /** Components whose canary Argo aborted (for the chat_operator_canary_aborted gauge). */
  abortedCanaries: ComponentName[];
}

interface AnalysisRunObject {
  metadata: { name: string };
  status?: {
    phase?: string;
    message?: string;
    metricResults?: { name: string; phase: string; message?: string }[];
  };
}

export interface ReconcilerDeps {
  client: KubeClient;
  clusters: Informer<ChatCluster & CachedObject>;
  /** The informer of an owned type, when that type is served and watched. */
  owned: (type: ResourceType) => Informer<CachedObject> | undefined;
  capabilities: () => Capabilities;
  events: EventRecorder;
  /** Digests of the Secrets and ConfigMaps the pods read (their checksum is on the pod template). */
  referencedData: ReferencedData;
  log: Log;
  now?: () => Date;
}

const ACTION_EVENT: Record<ChildAction, { reason: string; verb: string; type: RecordedEvent['type'] }> = {
  created: { reason: 'Created', verb: 'created', type: 'Normal' },
  updated: { reason: 'Updated', verb: 'updated', type: 'Normal' },
  corrected: { reason: 'DriftCorrected', verb: 'restored changed fields of', type: 'Warning' },
  pruned: { reason: 'Pruned', verb: 'deleted no longer desired', type: 'Normal' },
};

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const COMPLETED_RUN = new Set(['Successful', 'Failed', 'Error', 'Inconclusive']);

export class Reconciler {
  readonly #desiredCache = new Map<
    string,
    { key: string; sources: DataSource[]; digestsKey?: string; objects: KubeObject[] }
  >();
  /** Completed AnalysisRuns never change: read once. */
  readonly #analysisRuns = new Map<string, AnalysisRunVerdict>();

  /** The internal API token and key-encryption Secrets, created once when the ChatCluster names none. */
  readonly #generatedSecrets: GeneratedSecrets;

  constructor(private readonly deps: ReconcilerDeps) {
    this.#generatedSecrets = new GeneratedSecrets(deps.client);
  }

  async reconcile(key: string): Promise<ReconcileOutcome | undefined> {
    const [namespace, name] = key.split('/') as [string, string];
    const cached = this.deps.clusters.get(namespace, name);
    // Gone: the children carry owner references, so the garbage collector removes them.
    if (!cached || (cached.metadata as { deletionTimestamp?: string }).deletionTimestamp) {
      if (cached) this.#desiredCache.delete(cached.metadata.uid);
      this.deps.referencedData.forget(key);
      return undefined;
    }
    const cluster: ChatCluster = { ...cached, spec: defaultedSpec(cached.spec) };
    const caps = this.deps.capabilities();
    const outcome: ReconcileOutcome = { actions: [], statusWritten: false, abortedCanaries: [] };
    const failures: string[] = [];

    if (!cluster.spec.paused) {
      // Before the workloads, whose pods read them.
      try {
        for (const created of await this.#generatedSecrets.ensure(cluster)) {
          outcome.actions.push({ action: 'created', kind: 'Secret', name: created });
        }
      } catch (err) {
        failures.push(`create generated Secrets: ${message(err)}`);
      }
      let desired: KubeObject[] | undefined;
      try {
        desired = await this.#desired(key, cluster, caps);
      } catch (err) {
        failures.push(`building the desired objects failed: ${message(err)}`);
      }
      if (desired) {
        // Rollouts last: one naming an AnalysisTemplate Argo cannot find yet is InvalidSpec (the
        // ChatCluster briefly Degraded), so the templates and everything else are applied first.
        const rollouts = desired.filter((object) => object.kind === 'Rollout');
        const others = desired.filter((object) => object.kind !== 'Rollout');
        const ordered = [...others, ...rollouts];
        const results = [
          ...(await Promise.allSettled(others.map((object) => this.#ensure(object)))),
          ...(await Promise.allSettled(rollouts.map((object) => this.#ensure(object)))),
        ];
        results.forEach((result, i) => {
          const object = ordered[i]!;
          if (result.status === 'rejected') {
            failures.push(`apply ${object.kind} ${object.metadata.name}: ${message(result.reason)}`);
          } else if (result.value) {
            outcome.actions.push({ action: result.value, kind: object.kind, name: object.metadata.name });
          }
        });
        // Prune only from a complete desired set, or a transient failure would delete live objects.
        for (const pruned of await this.#prune(cluster, desired, failures)) outcome.actions.push(pruned);
      }
    }

    const workloads = this.#workloads(cluster, caps);
    const rollouts = usesCanary(cluster, caps);
    const analysisRuns: Partial<Record<ComponentName, AnalysisRunVerdict>> = {};
    if (rollouts) {
      for (const component of COMPONENTS) {
        if (!canaryAborted(workloads[component])) continue;
        outcome.abortedCanaries.push(component);
        const run = analysisRunOf(workloads[component]);
        const verdict = run ? await this.#analysisRun(namespace, run.name) : undefined;
        if (verdict) analysisRuns[component] = verdict;
      }
    }
    const status = computeStatus({
      cluster,
      caps,
      workloads,
      ...(rollouts ? { referencedGenerations: this.#deploymentGenerations(cluster), analysisRuns } : {}),
      ...(failures.length > 0 ? { reconcileError: failures.join('; ') } : {}),
      now: (this.deps.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
    if (statusChanged(cached.status, status)) {
      // resourceVersion makes the write conditional: a ChatCluster changed since it was read gets a 409
      // and is reconciled again from the newer version instead of being given a stale status.
      const written = await this.deps.client.applyStatus<ChatCluster & CachedObject>({
        apiVersion: cluster.apiVersion,
        kind: cluster.kind,
        metadata: { name, namespace, resourceVersion: cached.metadata.resourceVersion! },
        status,
      } as never);
      this.deps.clusters.prime(written);
      outcome.statusWritten = true;
      await this.#recordTransitions(cluster, cached.status?.conditions ?? [], status.conditions ?? []);
    }
    await this.#recordActions(cluster, outcome.actions);
    if (failures.length > 0) throw new Error(failures.join('; '));
    return outcome;
  }

  /** Drops what is remembered about a deleted ChatCluster. */
  forget(uid: string): void {
    this.#desiredCache.delete(uid);
    this.#generatedSecrets.forget(uid);
  }

  /** The desired objects depend only on the spec (its generation), identity, capabilities and the
   * digests of the data the pods read: built once per change, so a resync of many ChatClusters costs
   * comparisons, not compilations (and no request: the digests are cached, see ReferencedData). */
  async #desired(clusterKey: string, cluster: ChatCluster, caps: Capabilities): Promise<KubeObject[]> {
    const { uid, generation, name, namespace } = cluster.metadata;
    const key = `${namespace}/${name}/${generation ?? 'none'}/${caps.argoRollouts}/${caps.prometheusOperator}`;
    let cached = this.#desiredCache.get(uid);
    if (cached?.key !== key || generation === undefined) {
      const sources = new Map<string, DataSource>();
      for (const component of COMPONENTS)
        for (const source of podDataSources(cluster, component)) sources.set(dataSourceKey(source), source);
      cached = { key, sources: [...sources.values()], objects: [] };
    }
    const digests = await this.deps.referencedData.digests(clusterKey, namespace, cached.sources);
    const digestsKey = stableJson([...digests].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    if (cached.digestsKey !== digestsKey) {
      cached.objects = desiredObjects(cluster, caps, digests);
      cached.digestsKey = digestsKey;
    }
    this.#desiredCache.set(uid, cached);
    return cached.objects;
  }

  /** Applies the object unless the cache shows it is already as desired; says what it did. */
  async #ensure(object: KubeObject): Promise<ChildAction | undefined> {
    const type = resourceTypeOf(object);
    const informer = this.deps.owned(type);
    const observed = informer?.get(object.metadata.namespace, object.metadata.name) as KubeObject | undefined;
    if (isUpToDate(object, observed)) return undefined;
    const applied = await this.deps.client.apply<CachedObject>(object, { force: true });
    informer?.prime(applied);
    if (!observed) return 'created';
    if (
      applied.metadata.resourceVersion === (observed.metadata as CachedObject['metadata']).resourceVersion
    ) {
      return undefined; // the cache was behind; nothing changed
    }
    const sameDesire =
      observed.metadata.annotations?.[DESIRED_HASH_ANNOTATION] ===
      object.metadata.annotations?.[DESIRED_HASH_ANNOTATION];
    return sameDesire ? 'corrected' : 'updated';
  }

  async #prune(
    cluster: ChatCluster,
    desired: KubeObject[],
    failures: string[],
  ): Promise<{ action: ChildAction; kind: string; name: string }[]> {
    if (failures.length > 0) return [];
    const wanted = new Set(desired.map((o) => `${typeKey(o.apiVersion, o.kind)}/${o.metadata.name}`));
    const pruned: { action: ChildAction; kind: string; name: string }[] = [];
    await Promise.all(
      OWNED_TYPES.map(async (type) => {
        const informer = this.deps.owned(type);
        if (!informer) return;
        const stale = informer.list(
          (o) =>
            o.metadata.namespace === cluster.metadata.namespace &&
            o.metadata.labels?.[CLUSTER_LABEL] === cluster.metadata.name &&
            o.metadata.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY &&
            (o.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === cluster.metadata.uid) &&
            !wanted.has(`${typeKey(type.apiVersion, type.kind)}/${o.metadata.name}`),
        );
        for (const object of stale) {
          try {
            await this.deps.client.delete(
              type,
              object.metadata.namespace,
              object.metadata.name,
              object.metadata.uid,
            );
            pruned.push({ action: 'pruned', kind: type.kind, name: object.metadata.name });
          } catch (err) {
            if (!isNotFound(err))
              failures.push(`prune ${type.kind} ${object.metadata.name}: ${message(err)}`);
          }
        }
      }),
    );
    return pruned;
  }

  /** The AnalysisRun's verdict: which metrics failed. Best effort: unreadable is undefined, and the
   * status then names the metric from Argo's message. */
  async #analysisRun(namespace: string, name: string): Promise<AnalysisRunVerdict | undefined> {
    const key = `${namespace}/${name}`;
    const cached = this.#analysisRuns.get(key);
    if (cached) return cached;
    try {
      const run = await this.deps.client.get<AnalysisRunObject & CachedObject>(ANALYSIS_RUN, namespace, name);
      const verdict: AnalysisRunVerdict = {
        name,
        ...(run.status?.phase ? { phase: run.status.phase } : {}),
        ...(run.status?.message ? { message: run.status.message } : {}),
        failedMetrics: (run.status?.metricResults ?? [])
          .filter((m) => m.phase === 'Failed' || m.phase === 'Error')
          .map((m) => m.name),
      };
      if (COMPLETED_RUN.has(run.status?.phase ?? '')) {
        if (this.#analysisRuns.size > 1000) this.#analysisRuns.clear();
        this.#analysisRuns.set(key, verdict);
      }
      return verdict;
    } catch (err) {
      this.deps.log.warn({ analysisRun: key, err: message(err) }, 'reading the AnalysisRun failed');
      return undefined;
    }
  }

  /** Under Rollouts: the generation of each component's Deployment, which the workloadRef names. */
  #deploymentGenerations(cluster: ChatCluster): Partial<Record<ComponentName, number>> {
    const type = OWNED_TYPES.find((t) => t.kind === 'Deployment')!;
    const informer = this.deps.owned(type);
    const out: Partial<Record<ComponentName, number>> = {};
    for (const component of COMPONENTS) {
      const object = informer?.get(cluster.metadata.namespace, componentName(cluster, component));
      if (object?.metadata.generation !== undefined) out[component] = object.metadata.generation;
    }
    return out;
  }

  #workloads(cluster: ChatCluster, caps: Capabilities): Partial<Record<ComponentName, Workload>> {
    const type = OWNED_TYPES.find((t) => t.kind === (usesCanary(cluster, caps) ? 'Rollout' : 'Deployment'))!;
    const informer = this.deps.owned(type);
    const out: Partial<Record<ComponentName, Workload>> = {};
    for (const component of COMPONENTS) {
      const object = informer?.get(cluster.metadata.namespace, componentName(cluster, component));
      if (object) out[component] = object;
    }
    return out;
  }

  async #recordActions(cluster: ChatCluster, actions: ReconcileOutcome['actions']): Promise<void> {
    for (const action of Object.keys(ACTION_EVENT) as ChildAction[]) {
      const objects = actions.filter((a) => a.action === action).map((a) => `${a.kind}/${a.name}`);
      if (objects.length === 0) continue;
      const { reason, verb, type } = ACTION_EVENT[action];
      await this.deps.events.record(cluster, { type, reason, message: `${verb} ${objects.join(', ')}` });
    }
  }

  /** Events for condition changes a person cares about; the first Ready=False of a new cluster is noise. */
  async #recordTransitions(
    cluster: ChatCluster,
    before: { type: string; status: string; reason?: string }[],
    after: { type: string; status: string; reason: string; message: string }[],
  ): Promise<void> {
    for (const c of after) {
      const prior = before.find((b) => b.type === c.type);
      const previous = prior?.status;
      // An aborted canary is its own Event (what an SRE looks for), also when Degraded was already True.
      if (c.type === 'Degraded' && c.status === 'True' && c.reason === 'CanaryAborted') {
        if (previous !== 'True' || prior?.reason !== 'CanaryAborted') {
          await this.deps.events.record(cluster, {
            type: 'Warning',
            reason: 'CanaryAborted',
            message: c.message,
          });
        }
        continue;
      }
      if (previous === c.status) continue;
      const event = TRANSITION_EVENTS[`${c.type}=${c.status}`];
      if (!event || (event.onlyFromTrue && previous !== 'True')) continue;
      await this.deps.events.record(cluster, {
        type: event.type,
        reason: event.reason,
        message: `${c.reason}: ${c.message}`,
      });
    }
  }
}

const TRANSITION_EVENTS: Record<
  string,
  { reason: string; type: RecordedEvent['type']; onlyFromTrue?: boolean }
> = {
  'Ready=True': { reason: 'Ready', type: 'Normal' },
  'Ready=False': { reason: 'NotReady', type: 'Warning', onlyFromTrue: true },
  'Degraded=True': { reason: 'Degraded', type: 'Warning' },
  'Degraded=False': { reason: 'Recovered', type: 'Normal', onlyFromTrue: true },
  'Fallback=True': { reason: 'FallbackActive', type: 'Warning' },
  'Fallback=False': { reason: 'FallbackEnded', type: 'Normal', onlyFromTrue: true },
};

export const clusterKey = (object: { metadata: { namespace?: string; name: string } }): string =>
  objectKey(object.metadata.namespace, object.metadata.name);
