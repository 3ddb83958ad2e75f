// Releases of the message service through the ChatCluster, as a platform team ships one: a new
// version in `components.message.version`, which the operator turns into a Rollout change that Argo
// Rollouts walks through the ChatCluster's canary steps, gated by AnalysisRuns against the in-cluster
// Prometheus. What the journeys read back: the Rollout, its AnalysisRuns, the ChatCluster's
// conditions and Events, and where the clients' connections are.
import { request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { buildAndImportVariant } from '@chatcluster/images';
import { ChatUser, type User } from '@chatcluster/e2e';
import { CLUSTER_NAME } from '@chatcluster/dev';
import { chatCluster, metricValue, type ChaosPlatform, type ClusterCondition } from './platform.js';

/**
 * The ChatCluster's own fields, shortened for a test: 5 s scrapes, one 50 % step held 60 s, analysis
 * every 15 s (two failed measurements abort), and a minimum of 5 events per window. Production keeps
 * the defaults (30 s scrapes, 5 % for 15 min, 50 % for 10 min, 1-minute measurements, 100 events).
 */
export const JOURNEY_SETTINGS = {
  monitoring: { interval: '5s' },
  rollout: {
    canary: {
      steps: [{ setWeight: 50, pauseSeconds: 60 }, { setWeight: 100 }],
      analysis: { enabled: true, intervalSeconds: 15, failureLimit: 1, minimumEvents: 5 },
    },
  },
};

export interface RolloutState {
  phase: string;
  message: string;
  step: number;
  aborted: boolean;
  stableHash: string;
  canaryHash: string;
  pauseReasons: string[];
}

export async function rolloutState(platform: ChaosPlatform): Promise<RolloutState> {
  const rollout = JSON.parse(
    await platform.kubectl(['get', 'rollout', `${CLUSTER_NAME}-message`, '-o', 'json']),
  ) as {
    status: {
      phase?: string;
      message?: string;
      currentStepIndex?: number;
      abort?: boolean;
      stableRS?: string;
      currentPodHash?: string;
      pauseConditions?: { reason: string }[];
    };
  };
  const s = rollout.status;
  return {
    phase: s.phase ?? '',
    message: s.message ?? '',
    step: s.currentStepIndex ?? 0,
    aborted: s.abort === true,
    stableHash: s.stableRS ?? '',
    canaryHash: s.currentPodHash ?? '',
    pauseReasons: (s.pauseConditions ?? []).map((c) => c.reason),
  };
}

export interface MetricResult {
  name: string;
  phase: string;
  successful: number;
  failed: number;
  inconclusive: number;
  message?: string;
}

export interface AnalysisRunState {
  name: string;
  phase: string;
  message: string;
  metrics: MetricResult[];
}

/** The message Rollout's AnalysisRuns for the canary `hash`, oldest first. */
export async function analysisRuns(platform: ChaosPlatform, hash: string): Promise<AnalysisRunState[]> {
  const list = JSON.parse(
    await platform.kubectl([
      'get',
      'analysisrun',
      '-l',
      `rollouts-pod-template-hash=${hash},app.kubernetes.io/component=message`,
      '-o',
      'json',
    ]),
  ) as {
    items: {
      metadata: { name: string; creationTimestamp: string };
      status?: {
        phase?: string;
        message?: string;
        metricResults?: {
          name: string;
          phase: string;
          successful?: number;
          failed?: number;
          inconclusive?: number;
          message?: string;
        }[];
      };
    }[];
  };
  return list.items
    .sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp))
    .map((run) => ({
      name: run.metadata.name,
      phase: run.status?.phase ?? 'Pending',
      message: run.status?.message ?? '',
      metrics: (run.status?.metricResults ?? []).map((m) => ({
        name: m.name,
        phase: m.phase,
        successful: m.successful ?? 0,
        failed: m.failed ?? 0,
        inconclusive: m.inconclusive ?? 0,
        ...(m.message ? { message: m.message } : {}),
      })),
    }));
}

/** The dev ChatCluster's conditions by type. */
export async function chatClusterConditions(
  platform: ChaosPlatform,
): Promise<{ generation: number; conditions: Record<string, ClusterCondition> }> {
  const { generation, status } = await chatCluster(platform);
  return { generation, conditions: Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c])) };
}

/** Events the operator recorded on the ChatCluster with `reason`. */
export async function chatClusterEvents(
  platform: ChaosPlatform,
  reason: string,
): Promise<{ message: string; count: number }[]> {
  const list = JSON.parse(
    await platform.kubectl([
      'get',
      'events',
      '--field-selector',
      `involvedObject.kind=ChatCluster,involvedObject.name=${CLUSTER_NAME},reason=${reason}`,
      '-o',
      'json',
    ]),
  ) as { items: { message: string; count?: number; series?: { count: number } }[] };
  return list.items.map((e) => ({ message: e.message, count: e.series?.count ?? e.count ?? 1 }));
}

/** Sets the message service's version (null: back to spec.image.version). */
export async function releaseMessage(platform: ChaosPlatform, version: string | null): Promise<void> {
  await platform.kubectl([
    'patch',
    'chatcluster',
    CLUSTER_NAME,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { components: { message: { version } } } }),
  ]);
}

/** A message image that differs from this build's by its configuration only, under `tag`. */
export async function importVariant(
  platform: ChaosPlatform,
  tag: string,
  env: Record<string, string>,
): Promise<void> {
  await buildAndImportVariant({
    containerdSocket: platform.cluster.containerdSocket,
    component: 'message',
    tag,
    env,
  });
}

/** Open WebSocket connections on canary and stable pods, read from each pod's /metrics. */
export async function connectionShare(
  platform: ChaosPlatform,
  canaryHash: string,
): Promise<{ canary: number; stable: number }> {
  let canary = 0;
  let stable = 0;
  for (const replica of await platform.replicas('message')) {
    if (!replica.url || !replica.ready || replica.deleting) continue;
    const open = (await metricValue(replica.url, 'chat_message_ws_connections').catch(() => undefined)) ?? 0;
    if (replica.templateHash === canaryHash) canary += open;
    else stable += open;
  }
  return { canary, stable };
}

/**
 * Traffic besides the steady senders, as a chat service has it: clients that come and go (connect
 * through the Service, send one message, close cleanly) and REST reads, each on a new TCP connection,
 * so kube-proxy spreads them over the pods the way it spreads new clients. Without it a canary that
 * only sees the long-lived connections it inherits would have little to be judged on.
 */
export class ReleaseTraffic {
  private running = true;
  private readonly loops: Promise<void>[] = [];
  /** Sends the short-lived clients got acknowledged, and HTTP reads by status. */
  readonly counts = { visits: 0, acked: 0, reads: {} as Record<string, number> };

  constructor(
    private readonly messageUrl: string,
    private readonly channelId: string,
    private readonly visitors: User[],
  ) {
    this.loops.push(this.visitLoop(), this.readLoop());
  }

  private async visitLoop(): Promise<void> {
    let n = 0;
    while (this.running) {
      const user = this.visitors[n % this.visitors.length]!;
      n += 1;
      const visitor = new ChatUser(this.messageUrl, () => user.token);
      const visit = (async () => {
        await visitor.open();
        await visitor.subscribe(this.channelId);
        await visitor.client.send(this.channelId, `visit ${n}`);
        this.counts.acked += 1;
      })();
      await Promise.race([visit.catch(() => undefined), delay(3_000)]);
      this.counts.visits += 1;
      visitor.close();
      await delay(500);
    }
  }

  private async readLoop(): Promise<void> {
    const url = new URL(`/api/v1/messages?channelId=${this.channelId}&limit=1`, this.messageUrl);
    let n = 0;
    while (this.running) {
      const user = this.visitors[n % this.visitors.length]!;
      n += 1;
      const status = await new Promise<string>((resolve) => {
        const req = request(
          url,
          { agent: false, headers: { authorization: `Bearer ${user.token}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(String(res.statusCode)));
          },
        );
        req.setTimeout(5_000, () => req.destroy());
        req.on('error', () => resolve('error'));
        req.end();
      });
      this.counts.reads[status] = (this.counts.reads[status] ?? 0) + 1;
      await delay(300);
    }
  }

  async stop(): Promise<ReleaseTraffic['counts']> {
    this.running = false;
    await Promise.all(this.loops);
    return this.counts;
  }
}
