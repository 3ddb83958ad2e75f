// The development runner: a stand-in for the kubelet, the Deployment controller, Argo Rollouts and
// kube-proxy on one machine, for `make dev` and tests. It watches the Deployments and Rollouts in the
// API server, runs each replica as a local process (replica.ts), serves each Service on a local port
// (service-proxy.ts) and writes workload status back (status-writer.ts), so the operator sees its
// ChatCluster become Ready. A development tool only: no isolation, no scheduling, no canary steps.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '@chatcluster/operator';
import type { CommandOverrides } from './commands.js';
import type { BackoffOptions, ReplicaPhase } from './replica.js';
import { ServiceProxies } from './service-proxy.js';
import { RUNNER_FIELD_MANAGER, StatusWriter } from './status-writer.js';
import { ClusterView } from './watch.js';
import { WorkloadController } from './workload-controller.js';
import { desiredWorkloads } from './workloads.js';

export const RUNNER_NOTICE =
  'development runner: runs the workloads declared in the API server as local processes. A development tool, not a kubelet: production runs on a real cluster.';

export interface DevRunnerOptions {
  kubeConfig: KubeConfig;
  /** Only this namespace (default: every namespace). */
  namespace?: string;
  /** Per-replica directories (volumes, tmp) and log files. */
  runDir: string;
  /** Image (name or last segment) → local command; by default apps/<component>/dist/src/main.js. */
  commands?: CommandOverrides;
  /** Variables added to a container's environment, by image name or component: a local overlay for
   * what only makes sense on one machine (e.g. the message service serving the chat page). */
  extraEnv?: Record<string, Record<string, string>>;
  repoRoot?: string;
  log?: (line: string) => void;
  /** How often status is recomputed without an event (availability after minReadySeconds, deadlines). */
  syncIntervalMs?: number;
  backoff?: BackoffOptions;
}

export interface ReplicaInfo {
  name: string;
  workload: string;
  namespace: string;
  hash: string;
  phase: ReplicaPhase;
  ready: boolean;
  restarts: number;
  pid: number | undefined;
  /** Container port → local port. */
  ports: Record<number, number>;
  /** Named container port → local port (e.g. `http`, the port the ServiceMonitors scrape). */
  namedPorts: Record<string, number>;
  /** The pod's labels, the template hash label included. */
  labels: Record<string, string>;
  /** The container the replica runs (the template's first). */
  container: string;
  logFile: string;
  lastProblem: string | undefined;
  lastRestartReason: string | undefined;
}

const defaultRepoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));

export class DevRunner {
  private readonly controllers = new Map<string, WorkloadController>();
  /** Controllers of deleted workloads whose replicas are still terminating. */
  private readonly retiring = new Map<WorkloadController, Promise<void>>();
  private readonly proxies = new ServiceProxies();
  private readonly writer: StatusWriter;
  private readonly log: (line: string) => void;
  private view: ClusterView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly syncListeners = new Set<() => void>();
  /** Status writes sent, for tests that prove a steady state writes nothing. */
  statusWrites = 0;

  private constructor(
    private readonly options: DevRunnerOptions,
    private readonly client: KubeClient,
  ) {
    this.writer = new StatusWriter(client);
    this.log = options.log ?? (() => undefined);
    this.proxies.setEndpointSource((namespace) =>
      [...this.controllers.values()]
        .filter((c) => c.workload.namespace === namespace)
        .flatMap((c) => c.readyReplicas())
        .map((r) => ({ name: r.replica.name, labels: r.labels, localPort: r.localPort })),
    );
  }

  static async start(options: DevRunnerOptions): Promise<DevRunner> {
    mkdirSync(options.runDir, { recursive: true });
    const client = new KubeClient(options.kubeConfig, { fieldManager: RUNNER_FIELD_MANAGER });
    const runner = new DevRunner(options, client);
    runner.log(RUNNER_NOTICE);
    const view = await ClusterView.start(client, {
      ...(options.namespace ? { namespace: options.namespace } : {}),
      onChange: () => void runner.kick(),
      onError: (what, err) => runner.log(`${what}: ${(err as Error).message}`),
    });
    runner.view = view;
    if (!view.rollouts) runner.log('Argo Rollouts CRD not served: running Deployments only');
    await runner.kick();
    runner.timer = setInterval(() => void runner.kick(), options.syncIntervalMs ?? 1_000);
    return runner;
  }

  /** Local URL of a Service port (its first when none is given): the runner's proxy to ready replicas. */
  serviceUrl(namespace: string, name: string, port?: number): string | undefined {
    return this.proxies.url(namespace, name, port);
  }

  /** Names of the ready replicas behind a Service. */
  serviceEndpoints(namespace: string, name: string): string[] {
    return this.proxies.endpoints(namespace, name);
  }

  replicas(filter: { namespace?: string; workload?: string } = {}): ReplicaInfo[] {
    return [...this.controllers.values(), ...this.retiring.keys()]
      .filter((c) => (filter.namespace ?? c.workload.namespace) === c.workload.namespace)
      .filter((c) => (filter.workload ?? c.workload.name) === c.workload.name)
      .flatMap((c) =>
        [...c.replicas.values()].map(({ replica, ports, labels, container }) => ({
          name: replica.name,
          workload: c.workload.name,
          namespace: c.workload.namespace,
          hash: replica.hash,
          phase: replica.phase,
          ready: replica.ready,
          restarts: replica.restarts,
          pid: replica.pid,
          ports: Object.fromEntries(ports),
          namedPorts: Object.fromEntries(
            (container.ports ?? []).flatMap((p) =>
              p.name !== undefined && ports.has(p.containerPort)
                ? [[p.name, ports.get(p.containerPort)!]]
                : [],
            ),
          ),
          labels: { ...labels },
          container: container.name,
          logFile: `${this.options.runDir}/${replica.name}.log`,
          lastProblem: replica.lastProblem,
          lastRestartReason: replica.lastRestartReason,
        })),
      );
  }

  /** Workloads the runner cannot start (no local build for their image), with the reason. */
  unrunnable(): { workload: string; reason: string }[] {
    return [...this.controllers.values()]
      .filter((c) => c.unrunnable)
      .map((c) => ({ workload: c.workload.key, reason: c.unrunnable! }));
  }

  /**
   * Calls `listener` after every sync (at least once a second, and after every replica change), e.g.
   * to keep a list of scrape targets in step with `replicas()`. Returns the unsubscribe function.
   */
  onSync(listener: () => void): () => void {
    this.syncListeners.add(listener);
    return () => this.syncListeners.delete(listener);
  }

  /** Runs a sync now (or right after the running one); resolves when it is done. */
  kick(): Promise<void> {
    // Informers report their first list before the view is complete: the first sync follows start.
    if (this.stopped || !this.view) return Promise.resolve();
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.again = false;
          await this.sync().catch((err: unknown) => this.log(`sync failed: ${(err as Error).message}`));
          for (const listener of this.syncListeners) {
            try {
              listener();
            } catch (err) {
              this.log(`sync listener failed: ${(err as Error).message}`);
            }
          }
        } while (this.again && !this.stopped);
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /** Stops every replica (each with its grace period, in parallel) and the Service proxies. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.syncing;
    await Promise.all([...this.controllers.values()].map((c) => c.stop('runner stopping')));
    await Promise.all(this.retiring.values());
    await this.proxies.stop();
    await this.view?.stop();
  }

  private async sync(): Promise<void> {
    const view = this.view!;
    const workloads = desiredWorkloads(view);
    await this.proxies.sync(view.services.list());
    const wanted = new Set(workloads.map((w) => `${w.key}/${w.uid}`));
    for (const [id, controller] of this.controllers) {
      if (wanted.has(id)) continue;
      this.controllers.delete(id);
      this.writer.forget(controller.workload.key);
      this.retiring.set(
        controller,
        controller.stop('workload deleted').finally(() => this.retiring.delete(controller)),
      );
    }
    for (const workload of workloads) {
      if (this.stopped) return;
      const id = `${workload.key}/${workload.uid}`;
      let controller = this.controllers.get(id);
      if (!controller) {
        controller = new WorkloadController(workload, {
          repoRoot: this.options.repoRoot ?? defaultRepoRoot,
          runDir: this.options.runDir,
          commands: this.options.commands ?? {},
          extraEnv: this.options.extraEnv ?? {},
          sources: view,
          serviceAddresses: () => this.proxies.addresses(),
          reserveServices: (references) => this.proxies.reserve(references),
          log: this.log,
          onChange: () => void this.kick(),
          baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/' },
          ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
        });
        this.controllers.set(id, controller);
        this.log(`${workload.key}: ${workload.replicas} replica(s) of template ${workload.templateHash}`);
      }
      const wasUnrunnable = controller.unrunnable;
      await controller.sync(workload);
      if (controller.unrunnable && controller.unrunnable !== wasUnrunnable) {
        this.log(`${workload.key}: not started: ${controller.unrunnable}`);
      }
      const live =
        workload.kind === 'Rollout'
          ? view.rollouts?.get(workload.namespace, workload.name)
          : view.deployments.get(workload.namespace, workload.name);
      const status = controller.status(live?.status);
      try {
        if (await this.writer.write(workload, status)) this.statusWrites++;
      } catch (err) {
        this.log(`${workload.key}: writing status failed: ${(err as Error).message}`);
      }
    }
  }
}
