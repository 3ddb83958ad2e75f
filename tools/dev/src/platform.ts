// What `make dev` runs, in start order; each part is stopped in reverse order.
import {
  startAlertmanager,
  startFerretDB,
  startPostgres,
  startPrometheus,
  startRedis,
} from '@chatcluster/harness';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane } from './control-plane.js';
import { startLocalWorkloads } from './local-workloads.js';
import { startProviderSink } from './provider-sink.js';

export interface RunningPlatform {
  /** [what, where] pairs to print. */
  endpoints: [string, string][];
  stop(): Promise<void>;
}

interface Stoppable {
  stop(): Promise<void>;
}

const prometheusConfig = `global:
  scrape_interval: 15s
  evaluation_interval: 15s
scrape_configs: []
`;

/** The SLO compiler's committed output (slo/generated): burn-rate rules and the alert routing. */
const sloGenerated = fileURLToPath(new URL('../../../../slo/generated/', import.meta.url));
const sloRuleFiles = (): string[] =>
  readdirSync(`${sloGenerated}rules`)
    .filter((name) => name.endsWith('.yml'))
    .map((name) => `${sloGenerated}rules/${name}`);

export async function startPlatform(progress: (line: string) => void): Promise<RunningPlatform> {
  const started: Stoppable[] = [];
  const endpoints: [string, string][] = [];
  const stop = async (): Promise<void> => {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
  };
  try {
    progress('starting PostgreSQL, Redis and FerretDB (MongoDB wire protocol)');
    const [postgres, redis, mongo] = await Promise.all([startPostgres(), startRedis(), startFerretDB()]);
    started.push(postgres, redis, mongo);
    endpoints.push(['PostgreSQL', postgres.url], ['Redis', redis.url], ['MongoDB (FerretDB)', mongo.url]);

    // FCM and SendGrid are answered by a local sink; the dev ChatCluster points notification at it.
    const devDir = join(tmpdir(), 'chatcluster-dev');
    mkdirSync(devDir, { recursive: true });
    const sink = await startProviderSink(join(devDir, 'notifications-sent.log'));
    started.push(sink);
    endpoints.push(['notifications sent', sink.logFile]);

    progress('starting the local control plane (etcd + kube-apiserver) and the operator');
    const controlPlane = await startControlPlane(
      { postgres: postgres.url, mongodb: mongo.url, redis: redis.url },
      progress,
      { providerSinkUrl: sink.url },
    );
    started.push(controlPlane);
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
    endpoints.push(...workloads.endpoints);

    progress('starting Prometheus and Alertmanager');
    const alertmanager = await startAlertmanager({
      configYaml: readFileSync(`${sloGenerated}alertmanager.yml`, 'utf8'),
    });
    started.push(alertmanager);
    const prometheus = await startPrometheus({
      configYaml: `${prometheusConfig}alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:${alertmanager.port}']\n`,
      ruleFiles: sloRuleFiles(),
    });
    started.push(prometheus);
    endpoints.push(['Prometheus', prometheus.url], ['Alertmanager', alertmanager.url]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoints, stop };
}
