// The ChatCluster `make dev` applies, with the Secrets it names: examples/chatcluster-minimal.yaml
// with what one machine needs: the locally built images, fixed replica counts instead of autoscaling
// (no metrics server runs; two message replicas so WebSocket fan-out between instances is exercised),
// short canary steps,
// FCM and SendGrid pointed at the local provider sink, the chat page on, and short drain times so
// Ctrl-C is quick.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadYaml } from '@kubernetes/client-node';
import type { LocalCluster } from '@chatcluster/cluster';
import { eventually } from '@chatcluster/harness';
import { DEFAULT_REPOSITORY } from '@chatcluster/images';

const sample = fileURLToPath(new URL('../../../../examples/chatcluster-minimal.yaml', import.meta.url));

export const CLUSTER_NAME = 'chat';
export const CLUSTER_NAMESPACE = 'default';
export const DEV_REPLICAS = { auth: 1, message: 2, notification: 1 } as const;

export interface DataStoreUrls {
  postgres: string;
  mongodb: string;
  redis: string;
}

export interface DevClusterOptions {
  /** Base URL answering the FCM and SendGrid APIs. */
  providerSinkUrl: string;
  /** The tag tools/images gave this build's images. */
  imageTag: string;
  /** The in-cluster Prometheus the canary analysis queries. */
  prometheusAddress: string;
}

export function devChatCluster(options: DevClusterOptions): Record<string, unknown> {
  const cluster = loadYaml<{ spec: Record<string, unknown> } & Record<string, unknown>>(
    readFileSync(sample, 'utf8'),
  );
  const components = Object.fromEntries(
    Object.entries(DEV_REPLICAS).map(([name, replicas]) => [
      name,
      { replicas, autoscaling: { enabled: false } },
    ]),
  );
  return {
    ...cluster,
    metadata: { name: CLUSTER_NAME, namespace: CLUSTER_NAMESPACE },
    spec: {
      ...cluster.spec,
      image: { repository: DEFAULT_REPOSITORY, version: options.imageTag, pullPolicy: 'Never' },
      components,
      // A real Argo Rollouts canary, with steps short enough for a development loop. The analysis
      // (canary health and SLO burn rates, from the in-cluster Prometheus) needs chat traffic on the
      // canary, or it pauses the release as Inconclusive: off here, so an idle `make dev` rolls out by
      // itself; the canary journeys (test/e2e) turn it on through these same fields.
      monitoring: { ...(cluster.spec.monitoring as object), prometheusAddress: options.prometheusAddress },
      rollout: {
        strategy: 'Canary',
        canary: {
          steps: [{ setWeight: 50, pauseSeconds: 5 }, { setWeight: 100 }],
          analysis: { enabled: false },
        },
      },
      notification: {
        fcm: { secretRef: { name: 'chat-fcm' }, baseUrl: options.providerSinkUrl },
        sendgrid: { secretRef: { name: 'chat-sendgrid' }, baseUrl: options.providerSinkUrl },
      },
      // The Ingress object is created and validated by the API server; make dev reaches the services
      // through NodePorts (exposure.ts), as no ingress controller can run here.
      ingress: { enabled: true, host: 'chat.localhost' },
      chatPage: { enabled: true },
      // internalApiToken and keyEncryption stay unset: the operator generates the Secrets
      // chat-internal-api-token and chat-key-encryption, as for any ChatCluster that names none, and
      // the images run with NODE_ENV=production, so auth would not start without them.
      preStopDelaySeconds: 1,
      terminationGracePeriodSeconds: 15,
    },
  };
}

async function apply(cluster: LocalCluster, objects: unknown[]): Promise<void> {
  const result = await cluster.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
  if (result.code !== 0) throw new Error(`kubectl apply failed: ${result.stderr.trim()}`);
}

const secret = (name: string, data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: CLUSTER_NAMESPACE },
  stringData: data,
});

interface PodList {
  items: { metadata: { deletionTimestamp?: string }; status: { containerStatuses?: { ready: boolean }[] } }[];
}

/**
 * Waits until each component runs exactly its declared pods, all ready. Ready comes a moment earlier:
 * a Deployment under a Rollout starts with its default one replica, which Argo scales down
 * (`scaleDown: progressively`) once the Rollout's pods are up, so each component briefly has one pod more.
 */
async function waitForDeclaredPods(cluster: LocalCluster, timeoutMs = 120_000): Promise<void> {
  await eventually(
    'exactly the declared pods of each component, all ready',
    async () => {
      for (const [component, replicas] of Object.entries(DEV_REPLICAS)) {
        const listed = await cluster.kubectl([
          '-n',
          CLUSTER_NAMESPACE,
          'get',
          'pods',
          '-l',
          `app.kubernetes.io/name=${component},app.kubernetes.io/instance=${CLUSTER_NAME}`,
          '-o',
          'json',
        ]);
        if (listed.code !== 0) return false;
        const pods = (JSON.parse(listed.stdout) as PodList).items;
        const ready = pods.filter(
          (pod) => !pod.metadata.deletionTimestamp && pod.status.containerStatuses?.every((c) => c.ready),
        );
        if (pods.length !== replicas || ready.length !== replicas) return false;
      }
      return true;
    },
    timeoutMs,
    500,
  );
}

/** Applies the Secrets and the ChatCluster, and waits until it is Ready and runs just its pods. */
export async function applyChatCluster(
  cluster: LocalCluster,
  options: DevClusterOptions & { stores: DataStoreUrls },
  readyTimeoutSeconds = 300,
): Promise<void> {
  await apply(cluster, [
    secret('chat-postgres', { url: options.stores.postgres }),
    secret('chat-mongodb', { url: options.stores.mongodb }),
    secret('chat-redis', { url: options.stores.redis }),
    secret('chat-fcm', { projectId: 'chatcluster-dev', accessToken: 'dev-token' }),
    secret('chat-sendgrid', { apiKey: 'dev-key' }),
    devChatCluster(options),
  ]);
  const ready = await cluster.kubectl([
    '-n',
    CLUSTER_NAMESPACE,
    'wait',
    `chatcluster/${CLUSTER_NAME}`,
    '--for=condition=Ready',
    `--timeout=${readyTimeoutSeconds}s`,
  ]);
  if (ready.code !== 0) {
    const pods = await cluster.kubectl(['get', 'pods', '-A', '-o', 'wide']);
    const status = await cluster.kubectl([
      '-n',
      CLUSTER_NAMESPACE,
      'get',
      'chatcluster',
      CLUSTER_NAME,
      '-o',
      'yaml',
    ]);
    throw new Error(
      `the ChatCluster was not Ready within ${readyTimeoutSeconds} s: ${ready.stderr.trim()}\n${status.stdout}\n${pods.stdout}`,
    );
  }
  await waitForDeclaredPods(cluster);
}
