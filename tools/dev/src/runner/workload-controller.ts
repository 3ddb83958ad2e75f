// One workload (a Deployment, or a Rollout and the Deployment it references): keeps its local replicas
// in line with the spec (scaling and rolling replacement, from scaling.ts), prepares each replica's
// start (environment, ports, volumes, command), and computes the status the runner writes back.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@chatcluster/harness';
import { imageComponent, imageName, localCommand, type CommandOverrides } from './commands.js';
import { resolveEnv, type EnvSources } from './env.js';
import {
  rewriteMounts,
  rewritePorts,
  rewriteServices,
  serviceReferences,
  type ServiceAddress,
  type ServiceReference,
} from './local-rewrites.js';
import { Replica, type BackoffOptions, type LaunchSpec } from './replica.js';
import { planScaling } from './scaling.js';
import { countReplicas, deploymentStatus, rolloutStatus, type Condition, type Counts } from './status.js';
import type { Container } from './types.js';
import { PodVolumes } from './volumes.js';
import type { WorkloadSpec } from './workloads.js';

export interface ControllerContext {
  repoRoot: string;
  runDir: string;
  commands: CommandOverrides;
  /** Variables added to a container's environment, by image name or component (a local overlay). */
  extraEnv: Record<string, Record<string, string>>;
  sources: EnvSources;
  serviceAddresses: () => ServiceAddress[];
  /** Reserves proxy ports for Services an environment names before they exist. */
  reserveServices: (references: ServiceReference[]) => Promise<void>;
  log: (line: string) => void;
  onChange: () => void;
  backoff?: BackoffOptions;
  /** Variables every process gets besides its pod's (PATH, so `node` and tools resolve). */
  baseEnv: Record<string, string>;
}

export interface LocalReplica {
  replica: Replica;
  labels: Record<string, string>;
  ports: Map<number, number>;
  container: Container;
  volumes: PodVolumes;
  localPort: (port: number | string) => number | undefined;
}

const randomSuffix = (): string => randomBytes(3).toString('hex').slice(0, 5);

export class WorkloadController {
  readonly replicas = new Map<string, LocalReplica>();
  private spec: WorkloadSpec;
  private lastProgressKey = '';
  private lastProgressAt = Date.now();
  private warnedContainers = false;
  unrunnable: string | undefined;

  constructor(
    spec: WorkloadSpec,
    private readonly ctx: ControllerContext,
  ) {
    this.spec = spec;
  }

  get workload(): WorkloadSpec {
    return this.spec;
  }

  /** Applies the spec: starts and stops replicas, refreshes volumes of the running ones. */
  async sync(spec: WorkloadSpec): Promise<void> {
    this.spec = spec;
    const container = spec.template.spec.containers[0];
    if (!container) return;
    if (spec.template.spec.containers.length > 1 && !this.warnedContainers) {
      this.warnedContainers = true;
      this.ctx.log(
        `${spec.key}: runs only its first container (${container.name}); the dev runner has no sidecars`,
      );
    }
    const lookup = localCommand(container.image, this.ctx.repoRoot, this.ctx.commands);
    this.unrunnable = lookup.ok ? undefined : lookup.reason;
    const now = Date.now();
    const running = [...this.replicas.values()].filter((r) => !r.replica.terminating);
    const plan = planScaling(
      running.map(({ replica }) => ({
        id: replica.name,
        hash: replica.hash,
        ready: replica.ready,
        available: replica.available(spec.minReadySeconds, now),
        startedAt: replica.createdAt,
      })),
      spec,
    );
    for (const id of plan.stop) void this.stopReplica(id, 'scaled down or replaced');
    if (lookup.ok) {
      for (let i = 0; i < plan.start; i++) await this.startReplica(spec, container);
    }
    for (const local of running) {
      try {
        local.volumes.refresh(this.ctx.sources);
      } catch (err) {
        this.ctx.log(`${local.replica.name}: ${(err as Error).message}`);
      }
    }
  }

  /** The workload's status now, given the conditions it had. */
  status(previous: Record<string, unknown> | undefined): Record<string, unknown> {
    const spec = this.spec;
    const now = Date.now();
    const counts = countReplicas(
      [...this.replicas.values()].map(({ replica }) => ({
        hash: replica.hash,
        ready: replica.ready,
        available: replica.available(spec.minReadySeconds, now),
        terminating: replica.terminating,
      })),
      spec.templateHash,
    );
    const deadlineExceeded = this.trackProgress(counts, now);
    const input = {
      workload: spec,
      counts,
      deadlineExceeded,
      previousConditions: (previous?.conditions as Condition[] | undefined) ?? [],
      now: new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    };
    return spec.kind === 'Rollout'
      ? rolloutStatus({ ...input, previousStableRS: previous?.stableRS as string | undefined })
      : deploymentStatus(input);
  }

  /** Ready replicas with their labels and ports, for the Service proxies. */
  readyReplicas(): LocalReplica[] {
    return [...this.replicas.values()].filter((r) => r.replica.ready && !r.replica.terminating);
  }

  async stop(reason: string): Promise<void> {
    await Promise.all([...this.replicas.keys()].map((id) => this.stopReplica(id, reason)));
  }

  /** Progress = any count or the template changed; none for progressDeadlineSeconds while incomplete = exceeded. */
  private trackProgress(counts: Counts, now: number): boolean {
    const key = JSON.stringify([counts, this.spec.templateHash, this.spec.replicas]);
    if (key !== this.lastProgressKey) {
      this.lastProgressKey = key;
      this.lastProgressAt = now;
    }
    const complete =
      counts.updatedReplicas === this.spec.replicas &&
      counts.availableReplicas === this.spec.replicas &&
      counts.replicas === this.spec.replicas;
    if (complete) this.lastProgressAt = now;
    return !complete && now - this.lastProgressAt > this.spec.progressDeadlineSeconds * 1000;
  }

  private async startReplica(spec: WorkloadSpec, container: Container): Promise<void> {
    const podName = `${spec.name}-${spec.templateHash}-${randomSuffix()}`;
    const dir = join(this.ctx.runDir, spec.namespace, podName);
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const ports = new Map<number, number>();
    for (const port of container.ports ?? []) ports.set(port.containerPort, await freePort());
    const localPort = (port: number | string): number | undefined => {
      const declared =
        typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
      return declared === undefined ? undefined : ports.get(declared);
    };
    const labels = { ...spec.template.metadata?.labels, [spec.hashLabel]: spec.templateHash };
    const volumes = new PodVolumes(dir, spec.namespace, spec.template.spec.volumes ?? [], container);
    const pod = {
      name: podName,
      namespace: spec.namespace,
      uid: randomBytes(16).toString('hex'),
      labels,
      annotations: spec.template.metadata?.annotations ?? {},
      ...(spec.template.spec.serviceAccountName
        ? { serviceAccountName: spec.template.spec.serviceAccountName }
        : {}),
    };
    const prepare = async (): Promise<LaunchSpec> => {
      const lookup = localCommand(container.image, this.ctx.repoRoot, this.ctx.commands);
      if (!lookup.ok) throw new Error(lookup.reason);
      volumes.refresh(this.ctx.sources);
      const resolved = resolveEnv(container, pod, this.ctx.sources);
      for (const warning of resolved.warnings) this.ctx.log(`${podName}: ${warning}`);
      const extra =
        this.ctx.extraEnv[imageName(container.image)] ?? this.ctx.extraEnv[imageComponent(container.image)];
      let env = rewritePorts(resolved.env, container.ports ?? [], ports);
      await this.ctx.reserveServices(Object.values(env).flatMap(serviceReferences));
      env = rewriteServices(env, this.ctx.serviceAddresses());
      env = rewriteMounts(env, (path) => volumes.localPath(path));
      return {
        command: lookup.command,
        // The overlay holds host values already (paths on this machine): made local, a checkout under
        // /tmp would have been moved into the pod's /tmp volume.
        env: { ...this.ctx.baseEnv, HOSTNAME: podName, TMPDIR: join(dir, 'tmp'), ...env, ...extra },
      };
    };
    const replica = new Replica({
      podName,
      hash: spec.templateHash,
      container,
      terminationGracePeriodSeconds: spec.template.spec.terminationGracePeriodSeconds ?? 30,
      logFile: join(this.ctx.runDir, `${podName}.log`),
      localPort,
      prepare,
      log: this.ctx.log,
      onChange: this.ctx.onChange,
      ...(this.ctx.backoff ? { backoff: this.ctx.backoff } : {}),
    });
    this.replicas.set(podName, { replica, labels, ports, container, volumes, localPort });
    replica.start();
  }

  private async stopReplica(id: string, reason: string): Promise<void> {
    const local = this.replicas.get(id);
    if (!local) return;
    await local.replica.stop(reason);
    this.replicas.delete(id);
    rmSync(join(this.ctx.runDir, this.spec.namespace, id), { recursive: true, force: true });
    this.ctx.onChange();
  }
}
