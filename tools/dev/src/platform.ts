// What `make dev` runs, in start order; each part is stopped in reverse order.
import {
  startAlertmanager,
  startFerretDB,
  startPostgres,
  startPrometheus,
  startRedis,
  type AlertmanagerServer,
  type FerretDBServer,
  type PostgresServer,
  type PrometheusServer,
  type RedisServer,
} from '@chatcluster/harness';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane, type DataStoreUrls, type LocalControlPlane } from './control-plane.js';
import { startLocalWorkloads, type LocalWorkloads } from './local-workloads.js';
import { startProviderSink, type ProviderSink } from './provider-sink.js';
import { devPrometheusConfig, followReplicas, TargetFile } from './scrape-targets.js';

export interface RunningPlatform {
  /** [what, where] pairs to print. */
  endpoints: [string, string][];
  /** The running parts, for the end-to-end and failure tests (test/e2e, test/chaos). */
  parts: PlatformParts;
  stop(): Promise<void>;
}

export interface PlatformParts {
  postgres: PostgresServer;
  redis: RedisServer;
  mongo: FerretDBServer;
  sink: ProviderSink;
  controlPlane: LocalControlPlane;
  workloads: LocalWorkloads;
  alertmanager: AlertmanagerServer;
  prometheus: PrometheusServer;
}

export interface PlatformOptions {
  /** Logs, replica directories and the notification log (default `$TMPDIR/chatcluster-dev`). */
  dir?: string;
  /** The address the services get for a data store (default: the store's own). The failure tests
   * put a Toxiproxy proxy in between here. */
  storeUrl?: (store: keyof DataStoreUrls, url: string) => Promise<string>;
}

interface Stoppable {
  stop(): Promise<void>;
}

/** The SLO compiler's committed output (slo/generated): burn-rate rules and the alert routing. */
const sloGenerated = fileURLToPath(new URL('../../../../slo/generated/', import.meta.url));
const sloRuleFiles = (): string[] =>
  readdirSync(`${sloGenerated}rules`)
    .filter((name) => name.endsWith('.yml'))
    .map((name) => `${sloGenerated}rules/${name}`);

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
  try {
    progress('starting PostgreSQL, Redis and FerretDB (MongoDB wire protocol)');
    const [postgres, redis, mongo] = await Promise.all([startPostgres(), startRedis(), startFerretDB()]);
    started.push(postgres, redis, mongo);
    Object.assign(parts, { postgres, redis, mongo });
    endpoints.push(['PostgreSQL', postgres.url], ['Redis', redis.url], ['MongoDB (FerretDB)', mongo.url]);

    // FCM and SendGrid are answered by a local sink; the dev ChatCluster points notification at it.
    const devDir = options.dir ?? join(tmpdir(), 'chatcluster-dev');
    mkdirSync(devDir, { recursive: true });
    const sink = await startProviderSink(join(devDir, 'notifications-sent.log'));
    started.push(sink);
    parts.sink = sink;
    endpoints.push(['notifications sent', sink.logFile]);

    progress('starting the local control plane (etcd + kube-apiserver) and the operator');
    const storeUrl = options.storeUrl ?? ((_store: keyof DataStoreUrls, url: string) => Promise.resolve(url));
    const controlPlane = await startControlPlane(
      {
        postgres: await storeUrl('postgres', postgres.url),
        mongodb: await storeUrl('mongodb', mongo.url),
        redis: await storeUrl('redis', redis.url),
      },
      progress,
      { providerSinkUrl: sink.url, logDir: devDir },
    );
    started.push(controlPlane);
    parts.controlPlane = controlPlane;
    endpoints.push(
      ['Kubernetes API', controlPlane.kube.server],
      ['kubeconfig', controlPlane.kube.kubeconfigPath],
      ['operator', `${controlPlane.operator.url}/metrics`],
      ['operator log', controlPlane.operator.logFile],
    );

    // auth, message and notification run as the operator declared them: the development runner
    // starts each replica of their Rollouts/Deployments locally (no direct starts any more).
    progress('starting the workloads the operator declared (development runner)');
    const workloads = await startLocalWorkloads(controlPlane.kube, devDir, progress);
    started.push(workloads);
    parts.workloads = workloads;
    endpoints.push(...workloads.endpoints);

    progress('starting Prometheus and Alertmanager');
    const alertmanager = await startAlertmanager({
      configYaml: readFileSync(`${sloGenerated}alertmanager.yml`, 'utf8'),
    });
    started.push(alertmanager);
    parts.alertmanager = alertmanager;
    // Prometheus scrapes every running replica (a file_sd file the runner's syncs keep current) and
    // the operator, so the dashboards and the SLO alerts see the local platform.
    const targetFile = new TargetFile(join(devDir, 'prometheus', 'targets.json'));
    started.push(followReplicas(workloads.runner, targetFile));
    const prometheus = await startPrometheus({
      configYaml: devPrometheusConfig({
        targetFile: targetFile.path,
        operator: `127.0.0.1:${controlPlane.operator.port}`,
        alertmanager: `127.0.0.1:${alertmanager.port}`,
      }),
      ruleFiles: sloRuleFiles(),
    });
    started.push(prometheus);
    parts.prometheus = prometheus;
    endpoints.push(['Prometheus', prometheus.url], ['Alertmanager', alertmanager.url]);
    endpoints.push(['Prometheus scrape targets', targetFile.path]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoints, parts: parts as PlatformParts, stop };
}
