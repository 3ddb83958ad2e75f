// What `make dev` runs, in start order; each part is stopped in reverse order. The chat services run
// as real pods in a local single-node cluster (tools/cluster), with Argo Rollouts and the Prometheus
// Operator (whose Prometheus scrapes the ServiceMonitors and evaluates the PrometheusRule the
// ChatCluster operator writes, and gates canaries); the data stores, the FCM/SendGrid sink and
// Alertmanager run beside it on this machine, as managed services would outside a cluster, listening on
// the node address so pods reach them.
import {
  startAlertmanager,
  startFerretDB,
  startPostgres,
  startRedis,
  type AlertmanagerServer,
  type FerretDBServer,
  type PostgresServer,
  type RedisServer,
} from '@chatcluster/harness';
import { CLUSTER_CIDR, NODE_ADDRESS, startCluster, type LocalCluster } from '@chatcluster/cluster';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installArgoRollouts } from './argo-rollouts.js';
import { CLUSTER_NAME, CLUSTER_NAMESPACE, applyChatCluster, type DataStoreUrls } from './chat-cluster.js';
import { exposeServices, type ExposedComponent } from './exposure.js';
import { OPERATOR_NAMESPACE, installOperator } from './operator-release.js';
import { installPrometheusOperator, type InClusterPrometheus } from './prometheus-operator.js';
import { startProviderSink, type ProviderSink } from './provider-sink.js';

export interface RunningPlatform {
  /** [what, where] pairs to print. */
  endpoints: [string, string][];
  /** The running parts, for the end-to-end and failure tests (test/e2e, test/chaos). */
  parts: PlatformParts;
  /** The services through their NodePorts: `http://10.250.0.1:<port>`. */
  urls: Record<ExposedComponent, string>;
  stop(): Promise<void>;
}

export interface PlatformParts {
  cluster: LocalCluster;
  postgres: PostgresServer;
  redis: RedisServer;
  mongo: FerretDBServer;
  sink: ProviderSink;
  alertmanager: AlertmanagerServer;
  prometheus: InClusterPrometheus;
}

export interface PlatformOptions {
  /** Logs and the notification log (default `$TMPDIR/chatcluster-dev`). */
  dir?: string;
  /** The address the services get for a data store (default: the store's own). The failure tests
   * put a Toxiproxy proxy in between here. */
  storeUrl?: (store: keyof DataStoreUrls, url: string) => Promise<string>;
}

interface Stoppable {
  stop(): Promise<void>;
}

/** The SLO compiler's committed alert routing (slo/generated/alertmanager.yml). The burn-rate rules
 * reach Prometheus as the PrometheusRule the operator compiles from the ChatCluster's SLOs. */
const alertRouting = fileURLToPath(new URL('../../../../slo/generated/alertmanager.yml', import.meta.url));

/** The version in the Prometheus image's tag (tools/images tags it v<PROMETHEUS_SERVER_VERSION>). */
const prometheusVersion = (image: string): string => image.slice(image.lastIndexOf(':') + 1);

export { CLUSTER_NAME, CLUSTER_NAMESPACE, OPERATOR_NAMESPACE };

export async function startPlatform(
  progress: (line: string) => void,
  options: PlatformOptions = {},
): Promise<RunningPlatform> {
  const started: Stoppable[] = [];
  const parts: Partial<PlatformParts> = {};
  const endpoints: [string, string][] = [];
  const stop = async (): Promise<void> => {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
  };
  const devDir = options.dir ?? join(tmpdir(), 'chatcluster-dev');
  mkdirSync(devDir, { recursive: true });
  try {
    progress('starting the local Kubernetes cluster');
    const cluster = await startCluster({ logDir: join(devDir, 'cluster'), progress });
    started.push(cluster);
    parts.cluster = cluster;
    endpoints.push(
      ['Kubernetes API', cluster.server],
      ['kubeconfig', cluster.kubeconfigPath],
      ['cluster logs', cluster.logDir],
    );

    progress(`starting PostgreSQL, Redis and FerretDB (MongoDB wire protocol) on ${NODE_ADDRESS}`);
    const [postgres, redis] = await Promise.all([
      startPostgres({ host: NODE_ADDRESS, trustedNetworks: [CLUSTER_CIDR] }),
      startRedis({ host: NODE_ADDRESS }),
    ]);
    started.push(postgres, redis);
    // FerretDB keeps the documents in a database of its own on that PostgreSQL (stopped before it).
    const mongo = await startFerretDB({ host: NODE_ADDRESS, postgres });
    started.push(mongo);
    Object.assign(parts, { postgres, redis, mongo });
    endpoints.push(['PostgreSQL', postgres.url], ['Redis', redis.url], ['MongoDB (FerretDB)', mongo.url]);

    // FCM and SendGrid are answered by a local sink; the dev ChatCluster points notification at it.
    const sink = await startProviderSink(join(devDir, 'notifications-sent.log'), NODE_ADDRESS);
    started.push(sink);
    parts.sink = sink;
    endpoints.push(['notifications sent', sink.logFile]);

    progress(
      'starting Alertmanager; installing Argo Rollouts, the Prometheus Operator and the operator (helm)',
    );
    const alertmanager = await startAlertmanager({
      configYaml: readFileSync(alertRouting, 'utf8'),
      host: NODE_ADDRESS,
    });
    started.push(alertmanager);
    parts.alertmanager = alertmanager;
    const { images } = cluster.images;
    await installArgoRollouts(cluster, images['argo-rollouts']);
    const prometheus = await installPrometheusOperator(cluster, {
      images: {
        operator: images['prometheus-operator'],
        configReloader: images['prometheus-config-reloader'],
        prometheus: images.prometheus,
      },
      prometheusVersion: prometheusVersion(images.prometheus),
      alertmanager: `${NODE_ADDRESS}:${alertmanager.port}`,
    });
    parts.prometheus = prometheus;
    endpoints.push(['Prometheus', prometheus.url], ['Alertmanager', alertmanager.url]);
    await installOperator(cluster, images.operator);

    progress('applying the ChatCluster `chat` and waiting for it to be Ready');
    const storeUrl = options.storeUrl ?? ((_store: keyof DataStoreUrls, url: string) => Promise.resolve(url));
    await applyChatCluster(cluster, {
      stores: {
        postgres: await storeUrl('postgres', postgres.url),
        mongodb: await storeUrl('mongodb', mongo.url),
        redis: await storeUrl('redis', redis.url),
      },
      providerSinkUrl: sink.url,
      imageTag: cluster.images.tag,
      prometheusAddress: prometheus.inClusterUrl,
    });
    const urls = await exposeServices(cluster, CLUSTER_NAME, CLUSTER_NAMESPACE);
    endpoints.push(
      ['chat page', `${urls.message}/`],
      ['auth API', `${urls.auth}/api/v1`],
      ['message API', `${urls.message}/api/v1`],
      ['notification API', `${urls.notification}/api/v1`],
    );

    return { endpoints, parts: parts as PlatformParts, urls, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
