// Wires the operator together: campaign for the leader Lease; while leading, discover the optional
// CRDs, run informers on ChatClusters and every owned type that is served, feed changed keys to the
// work queue, and reconcile them with a few workers. Losing leadership stops all of it at once, so
// two replicas never reconcile together.
import type { KubeConfig } from '@kubernetes/client-node';
import { COMPONENTS, type ChatCluster } from '../api/types.js';
import { KubeClient, type KubeClientOptions } from '../kube/client.js';
import { CHATCLUSTER, OWNED_TYPES, typeKey, type ResourceType } from '../kube/resources.js';
import type { Capabilities } from '../specs/capabilities.js';
import { MANAGED_BY } from '../specs/meta.js';
import { discoverCapabilities } from './discovery.js';
import { EventRecorder } from './events.js';
import { Informer, objectKey, type CachedObject } from './informer.js';
import { LeaderElector } from './leader-election.js';
import type { OperatorMetrics } from './metrics.js';
import { Reconciler, type Log } from './reconciler.js';
import { ReferencedData } from './referenced-data.js';
import { WorkQueue, type BackoffOptions } from './work-queue.js';

export const FIELD_MANAGER = 'chatcluster-operator';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  /** Unique per replica (the pod name in a cluster). */
  identity: string;
  leaseNamespace: string;
  leaseName?: string;
  /** Watch one namespace; all namespaces when unset. */
  watchNamespace?: string;
  workers?: number;
  resyncIntervalMs?: number;
  /** How often the Secrets and ConfigMaps the pods read are read again, to roll pods on a change. */
  referencedDataPollIntervalMs?: number;
  discoveryIntervalMs?: number;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  backoff?: BackoffOptions;
  metrics?: OperatorMetrics;
  log: Log;
  /** Test hooks on every request of the reconciling client. */
  beforeRequest?: KubeClientOptions['beforeRequest'];
  afterResponse?: KubeClientOptions['afterResponse'];
}

type ClusterObject = ChatCluster & CachedObject;

interface LeadingState {
  queue: WorkQueue;
  clusters: Informer<ClusterObject>;
  owned: Map<string, Informer<CachedObject>>;
  caps: Capabilities;
  timers: NodeJS.Timeout[];
  workers: Promise<void>;
  synced: boolean;
}

export class Operator {
  /** Client for reconciling; its request counts show what reconciles cost. */
  readonly client: KubeClient;
  /** Separate client for the Lease, so its renewals do not mix with reconcile traffic. */
  readonly electionClient: KubeClient;
  readonly #elector: LeaderElector;
  readonly #events: EventRecorder;
  #state: LeadingState | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly options: OperatorOptions) {
    const afterResponse = options.metrics ? options.metrics.observeResponse.bind(options.metrics) : undefined;
    this.client = new KubeClient(options.kubeConfig, {
      fieldManager: FIELD_MANAGER,
      ...(options.beforeRequest ? { beforeRequest: options.beforeRequest } : {}),
      afterResponse: (response) => {
        afterResponse?.(response);
        options.afterResponse?.(response);
      },
    });
    this.electionClient = new KubeClient(options.kubeConfig, {
      fieldManager: FIELD_MANAGER,
      ...(afterResponse ? { afterResponse } : {}),
    });
    this.#events = new EventRecorder(this.client, options.identity, (err) =>
      options.log.warn({ err }, 'recording an Event failed'),
    );
    this.#elector = new LeaderElector(
      this.electionClient,
      {
        namespace: options.leaseNamespace,
        name: options.leaseName ?? 'chatcluster-operator',
        identity: options.identity,
        ...(options.leaseDurationSeconds ? { leaseDurationSeconds: options.leaseDurationSeconds } : {}),
        ...(options.renewDeadlineSeconds ? { renewDeadlineSeconds: options.renewDeadlineSeconds } : {}),
        ...(options.retryPeriodSeconds ? { retryPeriodSeconds: options.retryPeriodSeconds } : {}),
      },
      {
        onStartedLeading: () => {
          options.log.info({ identity: options.identity }, 'became leader');
          options.metrics?.leader.set(1);
          this.#lead();
        },
        onStoppedLeading: () => {
          options.log.warn({ identity: options.identity }, 'stopped leading');
          options.metrics?.leader.set(0);
          void this.#stopLeading();
        },
        onError: (err) => options.log.warn({ err }, 'leader election request failed'),
      },
    );
  }

  get isLeader(): boolean {
    return this.#elector.isLeader;
  }

  /** Healthy: a standby is ready as such; a leader once its caches are synced. */
  get ready(): boolean {
    return !this.#elector.isLeader || (this.#state?.synced ?? false);
  }

  get capabilities(): Capabilities | undefined {
    return this.#state?.caps;
  }

  start(): void {
    this.#elector.start();
  }

  /** Graceful: workers finish their current key and informers stop before the Lease is released,
   * so the next leader never overlaps with a reconcile still running here. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#stopLeading();
    await this.#elector.stop();
  }

  /** Queues every ChatCluster: the periodic resync, also used by tests and the benchmark. */
  resyncAll(): void {
    const state = this.#state;
    if (!state) return;
    for (const cluster of state.clusters.list())
      state.queue.add(objectKey(cluster.metadata.namespace, cluster.metadata.name));
  }

  /** Resolves once this replica leads, its caches are synced and its queue has been empty for quietMs. */
  async waitForIdle(timeoutMs = 60_000, quietMs = 300): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quietSince: number | undefined;
    for (;;) {
      const state = this.#state;
      const idle = state?.synced === true && state.queue.pending === 0;
      if (idle) {
        quietSince ??= Date.now();
        if (Date.now() - quietSince >= quietMs) return;
      } else {
        quietSince = undefined;
      }
      if (Date.now() > deadline)
        throw new Error(`operator ${this.options.identity} not idle after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Starts the leading machinery; if that fails (API server unreachable), retries while still leader. */
  #lead(): void {
    this.#starting = this.#startLeading().catch(async (err: unknown) => {
      this.options.log.error(
        { err: err instanceof Error ? err.message : String(err) },
        'starting to lead failed; retrying in 5 s',
      );
      this.#starting = undefined;
      await this.#stopLeading();
      setTimeout(() => {
        if (!this.#stopped && this.#elector.isLeader && !this.#state) this.#lead();
      }, 5000).unref();
    });
  }

  async #startLeading(): Promise<void> {
    if (this.#stopped || this.#state) return;
    const { log, metrics } = this.options;
    const caps = await discoverCapabilities(this.client);
    log.info({ capabilities: caps }, 'discovered optional APIs');
    const queue = new WorkQueue(this.options.backoff);
    const clusters = new Informer<ClusterObject>(
      this.client,
      CHATCLUSTER,
      this.#informerOptions(CHATCLUSTER),
    ).onChange((_event, object) => queue.add(objectKey(object.metadata.namespace, object.metadata.name)));
    const owned = new Map<string, Informer<CachedObject>>();
    const state: LeadingState = {
      queue,
      clusters,
      owned,
      caps,
      timers: [],
      workers: Promise.resolve(),
      synced: false,
    };
    this.#state = state;
    for (const type of OWNED_TYPES)
      if (!type.optional || caps[type.optional]) this.#startOwnedInformer(state, type);
    clusters.start();
    await Promise.all([clusters.waitForSync(), ...[...owned.values()].map((i) => i.waitForSync())]);
    if (this.#state !== state) return;
    state.synced = true;

    const referencedData = new ReferencedData(this.client);
    const reconciler = new Reconciler({
      client: this.client,
      clusters,
      owned: (type) => state.owned.get(typeKey(type.apiVersion, type.kind)),
      capabilities: () => state.caps,
      events: this.#events,
      referencedData,
      log,
    });
    clusters.onChange((event, object) => {
      if (event === 'deleted' && object.metadata.uid) reconciler.forget(object.metadata.uid);
    });
    state.workers = queue.run(
      async (key) => {
        const started = performance.now();
        metrics?.queueDepth.set(queue.depth);
        try {
          const outcome = await reconciler.reconcile(key);
          metrics?.reconciles.inc({ result: 'success' });
          const [namespace, chatcluster] = key.split('/') as [string, string];
          for (const component of COMPONENTS) {
            const labels = { chatcluster_namespace: namespace, chatcluster, component };
            // A deleted ChatCluster's series goes; otherwise 1 while aborted.
            if (outcome)
              metrics?.canaryAborted.set(labels, outcome.abortedCanaries.includes(component) ? 1 : 0);
            else metrics?.canaryAborted.remove(labels);
          }
          for (const a of outcome?.actions ?? [])
            metrics?.childActions.inc({ action: a.action, kind: a.kind });
          if (outcome && (outcome.actions.length > 0 || outcome.statusWritten)) {
            log.info(
              { key, actions: outcome.actions.length, statusWritten: outcome.statusWritten },
              'reconciled',
            );
          }
        } finally {
          metrics?.reconcileDuration.observe((performance.now() - started) / 1000);
          metrics?.queueDepth.set(queue.depth);
        }
      },
      this.options.workers ?? 2,
      (key, err, retryInMs) => {
        metrics?.reconciles.inc({ result: 'error' });
        metrics?.reconcileErrors.inc();
        log.warn(
          { key, err: err instanceof Error ? err.message : String(err), retryInMs },
          'reconcile failed; retrying',
        );
      },
    );
    this.resyncAll();
    const resync = setInterval(() => this.resyncAll(), this.options.resyncIntervalMs ?? 10 * 60_000);
    const rediscover = setInterval(
      () => void this.#refreshCapabilities(state),
      this.options.discoveryIntervalMs ?? 60_000,
    );
    const pollReferencedData = setInterval(
      () =>
        void referencedData
          .refresh((err) =>
            // The API's error (status and reason), never the object: it may be a Secret.
            log.warn(
              { err: err instanceof Error ? err.message : String(err) },
              'reading referenced data failed',
            ),
          )
          .then((changed) => {
            if (changed.length > 0) log.info({ clusters: changed }, 'referenced Secret or ConfigMap changed');
            for (const key of changed) queue.add(key);
          }),
      this.options.referencedDataPollIntervalMs ?? 60_000,
    );
    resync.unref();
    rediscover.unref();
    pollReferencedData.unref();
    state.timers.push(resync, rediscover, pollReferencedData);
    log.info({ clusters: clusters.list().length }, 'caches synced; reconciling');
  }

  #informerOptions(type: ResourceType): ConstructorParameters<typeof Informer>[2] {
    const { log, metrics, watchNamespace } = this.options;
    return {
      ...(watchNamespace ? { namespace: watchNamespace } : {}),
      ...(type === CHATCLUSTER ? {} : { labelSelector: `app.kubernetes.io/managed-by=${MANAGED_BY}` }),
      onError: (err, restartInMs) => {
        metrics?.watchRestarts.inc({ resource: type.plural });
        log.warn(
          { resource: type.plural, err: err instanceof Error ? err.message : String(err), restartInMs },
          'watch failed; restarting',
        );
      },
    };
  }

  #startOwnedInformer(state: LeadingState, type: ResourceType): Informer<CachedObject> {
    const informer = new Informer<CachedObject>(this.client, type, this.#informerOptions(type)).onChange(
      (_event, object) => {
        const owner = object.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'ChatCluster');
        if (owner) state.queue.add(objectKey(object.metadata.namespace, owner.name));
      },
    );
    state.owned.set(typeKey(type.apiVersion, type.kind), informer);
    informer.start();
    return informer;
  }

  /** Argo Rollouts or the Prometheus Operator installed or removed later: watch what is served now. */
  async #refreshCapabilities(state: LeadingState): Promise<void> {
    try {
      const caps = await discoverCapabilities(this.client);
      if (
        caps.argoRollouts === state.caps.argoRollouts &&
        caps.prometheusOperator === state.caps.prometheusOperator
      )
        return;
      this.options.log.info({ before: state.caps, after: caps }, 'optional APIs changed');
      for (const type of OWNED_TYPES) {
        if (!type.optional) continue;
        const key = typeKey(type.apiVersion, type.kind);
        const running = state.owned.get(key);
        if (caps[type.optional] && !running) await this.#startOwnedInformer(state, type).waitForSync();
        if (!caps[type.optional] && running) {
          state.owned.delete(key);
          await running.stop();
        }
      }
      state.caps = caps;
      this.resyncAll();
    } catch (err) {
      this.options.log.warn({ err }, 'discovery failed; keeping the previous view');
    }
  }

  /** Idempotent: concurrent callers share one stop, and all return once it is complete. */
  #stopLeading(): Promise<void> {
    this.#stopping ??= this.#stopLeadingOnce().finally(() => (this.#stopping = undefined));
    return this.#stopping;
  }

  async #stopLeadingOnce(): Promise<void> {
    await this.#starting;
    const state = this.#state;
    if (!state) return;
    this.#state = undefined;
    for (const timer of state.timers) clearInterval(timer);
    state.queue.shutDown();
    await Promise.all([state.clusters.stop(), ...[...state.owned.values()].map((i) => i.stop())]);
    await state.workers;
  }
}
