// The platform of the failure matrix: started as `make dev` starts it (test/e2e startTestPlatform), with
// one difference: the services reach PostgreSQL, MongoDB (FerretDB) and Redis through Toxiproxy
// proxies named `postgres`, `mongodb` and `redis`, so a scenario can make a data store unavailable
// (disable the proxy) or slow (a latency toxic) for the services without touching its data.
import {
  createChannel,
  joinChannel,
  refresh,
  signUp,
  startTestPlatform,
  type Replica,
  type TestPlatform,
  type User,
} from '@chatcluster/e2e';
import type { ChatLoad } from './load.js';
import { CLUSTER_NAME, CLUSTER_NAMESPACE, DEV_REPLICAS } from '@chatcluster/dev';
import { NODE_ADDRESS } from '@chatcluster/cluster';
import { call, eventually, startToxiproxy, type ToxiproxyServer } from '@chatcluster/harness';

export interface ChaosPlatform extends TestPlatform {
  toxiproxy: ToxiproxyServer;
  /** Users signed up once for the suite (sign-ups are limited to 20 an hour per address). */
  users: User[];
}

const POOL_SIZE = 10;

export async function startChaosPlatform(): Promise<ChaosPlatform> {
  const toxiproxy = await startToxiproxy();
  let platform: TestPlatform;
  try {
    platform = await startTestPlatform('chaos', {
      // The proxies listen on the node address, which the pods reach.
      storeUrl: async (store, url) => {
        const address = new URL(url);
        const proxy = await toxiproxy.createProxy(store, `${address.hostname}:${address.port}`, NODE_ADDRESS);
        address.host = proxy.listen;
        return address.toString();
      },
    });
  } catch (error) {
    await toxiproxy.stop();
    throw error;
  }
  const users: User[] = [];
  try {
    for (let i = 0; i < POOL_SIZE; i++) users.push(await signUp(platform.authUrl, `chaos${i}`));
  } catch (error) {
    await platform.stop();
    await toxiproxy.stop();
    throw error;
  }
  return {
    ...platform,
    toxiproxy,
    users,
    async stop() {
      await platform.stop();
      await toxiproxy.stop();
    },
  };
}

export interface ClusterCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export interface ClusterStatus {
  observedGeneration?: number;
  phase?: string;
  conditions?: ClusterCondition[];
}

/** The dev ChatCluster's generation and status. */
export async function chatCluster(
  platform: ChaosPlatform,
): Promise<{ generation: number; status: ClusterStatus }> {
  const json = await platform.kubectl(['get', 'chatcluster', CLUSTER_NAME, '-o', 'json']);
  const cluster = JSON.parse(json) as { metadata: { generation: number }; status?: ClusterStatus };
  return { generation: cluster.metadata.generation, status: cluster.status ?? {} };
}

/** The dev ChatCluster's status. */
export async function clusterStatus(platform: ChaosPlatform): Promise<ClusterStatus> {
  return (await chatCluster(platform)).status;
}

/** Ready endpoints of a component's Service (what kube-proxy sends connections to). */
export async function readyEndpoints(platform: ChaosPlatform, component: string): Promise<number> {
  const json = await platform.kubectl([
    'get',
    'endpointslices',
    '-l',
    `kubernetes.io/service-name=${CLUSTER_NAME}-${component}`,
    '-o',
    'json',
  ]);
  const slices = JSON.parse(json) as { items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] };
  return slices.items.flatMap((slice) => slice.endpoints ?? []).filter((e) => e.conditions?.ready).length;
}

/**
 * Puts the platform back to its healthy baseline before a scenario: no toxic, every proxy enabled,
 * providers answering, every replica the dev ChatCluster declares ready behind its Service with every
 * readiness check passing (a replica stays ready while degraded), and the ChatCluster Ready.
 */
export async function healthyBaseline(platform: ChaosPlatform, timeoutMs = 180_000): Promise<void> {
  await platform.toxiproxy.reset();
  platform.platform.parts.sink.setFault('fcm', 'ok');
  platform.platform.parts.sink.setFault('sendgrid', 'ok');
  await eventually(
    'every replica ready and the ChatCluster Ready',
    async () => {
      for (const [component, replicas] of Object.entries(DEV_REPLICAS)) {
        const ready = (await platform.replicas(component)).filter(
          (r) => r.ready && r.phase === 'Running' && !r.deleting,
        );
        if (ready.length !== replicas) return false;
        if ((await readyEndpoints(platform, component)) !== replicas) return false;
        for (const replica of ready) {
          const readiness = await call<{ status?: string }>(replica.url!, 'GET', '/health/readiness', {
            timeoutMs: 5_000,
          }).catch(() => undefined);
          if (readiness?.body?.status !== 'ok') return false;
        }
      }
      const status = await clusterStatus(platform);
      return status.phase === 'Ready';
    },
    timeoutMs,
    500,
  );
}

/** The message replica serving the most of the load's members (a scenario's victim at peak), with
 * how many it serves. */
export async function busiestMessageReplica(
  platform: ChaosPlatform,
  load: ChatLoad,
): Promise<{ replica: Replica; members: number }> {
  const connections = new Map<string, number>();
  for (const user of load.users) {
    const id = user.client.instanceId!;
    connections.set(id, (connections.get(id) ?? 0) + 1);
  }
  const [name, members] = [...connections].sort((a, b) => b[1] - a[1])[0]!;
  const replica = (await platform.replicas('message')).find((r) => r.name === name);
  if (!replica) throw new Error(`the busiest instance ${name} is not a message pod`);
  return { replica, members };
}

export { CLUSTER_NAMESPACE };

/** A fresh public channel of `members` (the first owns it), with fresh tokens for each of them. */
export async function freshChannel(platform: ChaosPlatform, members: User[]): Promise<string> {
  for (const member of members) await refresh(platform.authUrl, member);
  const channel = await createChannel(platform.authUrl, members[0]!);
  for (const member of members.slice(1)) await joinChannel(platform.authUrl, member, channel);
  return channel;
}

/** The value of a metric (summed over matching series) on one replica's /metrics. */
export async function metricValue(
  replicaUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const res = await call<string>(replicaUrl, 'GET', '/metrics', { timeoutMs: 5_000 });
  if (res.status !== 200) return undefined;
  let total: number | undefined;
  for (const line of String(res.body).split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (!wanted) continue;
    total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
