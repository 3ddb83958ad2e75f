// The platform as `make dev` starts it (tools/dev startPlatform) on the local cluster, in a private
// directory, with what a user of it has: the services through their NodePorts, and kubectl. A
// component's replicas are its pods, read from the API server.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempDir, removeTempDir, type CommandResult } from '@chatcluster/harness';
import {
  CLUSTER_NAME,
  CLUSTER_NAMESPACE,
  startPlatform,
  type PlatformOptions,
  type RunningPlatform,
} from '@chatcluster/dev';
import type { LocalCluster } from '@chatcluster/cluster';

/** A pod of a component, as the tests see it. */
export interface Replica {
  /** The pod's name, which is also the service's instance id. */
  name: string;
  phase: string;
  ready: boolean;
  /** Restarts of its container (the kubelet's count). */
  restarts: number;
  lastRestartReason?: string;
  /** `http://<pod IP>:<http port>`: this replica alone, bypassing the Service. */
  url?: string;
  /** Rollouts' pod-template hash label, which tells canary from stable. */
  templateHash?: string;
  /** The running container's id in containerd. */
  containerId?: string;
  deleting: boolean;
}

export interface TestPlatform {
  platform: RunningPlatform;
  cluster: LocalCluster;
  /** Logs (`progress.log`, `cluster/*.log`, `notifications-sent.log`). */
  dir: string;
  authUrl: string;
  /** The message service: the API, the WebSocket at /ws and the chat page at /. */
  messageUrl: string;
  notificationUrl: string;
  /** `kubectl` in the ChatCluster's namespace; throws on a non-zero exit. */
  kubectl(args: readonly string[], input?: string): Promise<string>;
  /** The pods of a component (`auth`, `message`, `notification`). */
  replicas(component: string): Promise<Replica[]>;
  /** The last log lines of each of the ChatCluster's pods, for failure messages. */
  logTails(lines?: number): Promise<string>;
  /** Kills a replica's container through the runtime (as the OOM killer or a crash would); the kubelet
   * restarts it in the same pod. */
  killContainer(replica: Replica, signal?: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP'): Promise<void>;
  /** Gives this build's ChatCluster images another tag too, so a version change has images to run. */
  tagImages(tag: string): Promise<void>;
  stop(): Promise<void>;
}

export interface PodJson {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { containers: { ports?: { name?: string; containerPort: number }[] }[] };
  status: {
    phase?: string;
    podIP?: string;
    containerStatuses?: {
      containerID?: string;
      ready: boolean;
      restartCount: number;
      lastState?: { terminated?: { reason?: string } };
    }[];
  };
}

export function toReplica(pod: PodJson): Replica {
  const container = pod.status.containerStatuses?.[0];
  const port = pod.spec.containers[0]?.ports?.find((p) => p.name === 'http')?.containerPort;
  const reason = container?.lastState?.terminated?.reason;
  const hash = pod.metadata.labels?.['rollouts-pod-template-hash'];
  return {
    name: pod.metadata.name,
    phase: pod.status.phase ?? 'Unknown',
    ready: container?.ready ?? false,
    restarts: container?.restartCount ?? 0,
    ...(reason ? { lastRestartReason: reason } : {}),
    ...(pod.status.podIP && port ? { url: `http://${pod.status.podIP}:${port}` } : {}),
    ...(hash ? { templateHash: hash } : {}),
    ...(container?.containerID ? { containerId: container.containerID.replace(/^containerd:\/\//, '') } : {}),
    deleting: pod.metadata.deletionTimestamp !== undefined,
  };
}

function orThrow(args: readonly string[], result: CommandResult): string {
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

export async function startTestPlatform(
  label: string,
  options: Omit<PlatformOptions, 'dir'> = {},
): Promise<TestPlatform> {
  const dir = createTempDir(label);
  const progressLog = join(dir, 'progress.log');
  let platform: RunningPlatform;
  try {
    platform = await startPlatform(
      (line) => appendFileSync(progressLog, `${new Date().toISOString()} ${line}\n`),
      { ...options, dir },
    );
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
  const cluster = platform.parts.cluster;
  const kubectl = async (args: readonly string[], input?: string): Promise<string> => {
    const full = ['-n', CLUSTER_NAMESPACE, ...args];
    return orThrow(full, await cluster.kubectl(full, input === undefined ? {} : { input }));
  };
  const replicas = async (component: string): Promise<Replica[]> => {
    const selector = `app.kubernetes.io/name=${component},app.kubernetes.io/instance=${CLUSTER_NAME}`;
    const list = JSON.parse(await kubectl(['get', 'pods', '-l', selector, '-o', 'json'])) as {
      items: PodJson[];
    };
    return list.items.map(toReplica).sort((a, b) => a.name.localeCompare(b.name));
  };
  return {
    platform,
    cluster,
    dir,
    authUrl: platform.urls.auth,
    messageUrl: platform.urls.message,
    notificationUrl: platform.urls.notification,
    kubectl,
    replicas,
    async logTails(lines = 15) {
      const tails: string[] = [];
      for (const component of ['auth', 'message', 'notification']) {
        for (const replica of await replicas(component).catch(() => [])) {
          const log = await cluster.kubectl([
            '-n',
            CLUSTER_NAMESPACE,
            'logs',
            replica.name,
            `--tail=${lines}`,
          ]);
          tails.push(`${replica.name}:\n${log.stdout || log.stderr}`);
        }
      }
      return tails.join('\n');
    },
    async killContainer(replica, signal = 'SIGKILL') {
      if (!replica.containerId) throw new Error(`${replica.name} has no running container`);
      const killed = await cluster.ctr(['tasks', 'kill', '--signal', signal, replica.containerId]);
      if (killed.code !== 0) throw new Error(`could not kill ${replica.name}: ${killed.stderr.trim()}`);
    },
    async tagImages(tag) {
      for (const image of Object.values(cluster.images.images)) {
        if (!image.endsWith(`:${cluster.images.tag}`)) continue;
        const target = `${image.slice(0, image.lastIndexOf(':'))}:${tag}`;
        const tagged = await cluster.ctr(['images', 'tag', '--force', image, target]);
        if (tagged.code !== 0)
          throw new Error(`could not tag ${image} as ${target}: ${tagged.stderr.trim()}`);
      }
    },
    async stop() {
      await platform.stop();
      await removeTempDir(dir);
    },
  };
}
