// Prometheus under `make dev` scrapes what the development runner runs: every replica's `http` port (the
// port the operator's ServiceMonitors scrape in a cluster) is a target in a file_sd file, rewritten
// (atomically, and only when it changes) after each runner sync, so replicas that start, restart on
// another port, scale or roll are followed within seconds. The operator process is a static target.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DevRunner, ReplicaInfo } from './runner/index.js';

/** One entry of a Prometheus file_sd file. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** The container port name the ServiceMonitors scrape (`endpoints: [{port: http, path: /metrics}]`). */
export const METRICS_PORT_NAME = 'http';
/** Argo Rollouts' pod label, which the ServiceMonitors copy to the series (`podTargetLabels`). */
const ROLLOUTS_HASH_LABEL = 'rollouts-pod-template-hash';

/**
 * Scrape targets for the replicas whose process runs (ready or not: a replica failing readiness
 * because a dependency is down still counts its errors), one group per replica, labelled as in a cluster:
 * `job` the workload (which is also its Service's name), `namespace`, `pod`, `container`, and
 * `rollouts_pod_template_hash` for a Rollout's pods. Sorted, so equal inputs give equal files.
 */
export function scrapeTargetGroups(replicas: readonly ReplicaInfo[]): TargetGroup[] {
  return replicas
    .filter((r) => r.phase === 'Running' && r.namedPorts[METRICS_PORT_NAME] !== undefined)
    .map((r) => ({
      targets: [`127.0.0.1:${r.namedPorts[METRICS_PORT_NAME]}`],
      labels: {
        job: r.workload,
        namespace: r.namespace,
        pod: r.name,
        container: r.container,
        ...(r.labels[ROLLOUTS_HASH_LABEL] !== undefined
          ? { rollouts_pod_template_hash: r.labels[ROLLOUTS_HASH_LABEL] }
          : {}),
      },
    }))
    .sort((a, b) =>
      `${a.labels.namespace}/${a.labels.pod}`.localeCompare(`${b.labels.namespace}/${b.labels.pod}`),
    );
}

/** A file_sd file. Prometheus watches it and reloads its targets when it is replaced. */
export class TargetFile {
  private last: string | undefined;

  constructor(readonly path: string) {}

  /**
   * Writes the groups unless the file already holds exactly them; returns whether it wrote. The text
   * goes to a temporary file first and is renamed over the target, so Prometheus never reads half a file.
   */
  write(groups: readonly TargetGroup[]): boolean {
    const text = `${JSON.stringify(groups, null, 2)}\n`;
    if (this.last === undefined) {
      try {
        this.last = readFileSync(this.path, 'utf8');
      } catch {
        // No file yet.
      }
    }
    if (text === this.last) return false;
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, this.path);
    this.last = text;
    return true;
  }
}

/** Keeps `file` in step with the runner's replicas until stopped. */
export function followReplicas(runner: DevRunner, file: TargetFile): { stop(): Promise<void> } {
  const update = (): void => void file.write(scrapeTargetGroups(runner.replicas()));
  update();
  const unsubscribe = runner.onSync(update);
  return {
    stop: () => {
      unsubscribe();
      return Promise.resolve();
    },
  };
}

export interface DevPrometheusOptions {
  /** The file_sd file of the replicas. */
  targetFile: string;
  /** `host:port` of the operator's /metrics. */
  operator: string;
  /** `host:port` of Alertmanager. */
  alertmanager: string;
  scrapeInterval?: string;
}

/** prometheus.yml for `make dev` (JSON, which YAML includes): the replicas, the operator, Alertmanager. */
export function devPrometheusConfig(options: DevPrometheusOptions): string {
  const interval = options.scrapeInterval ?? '15s';
  return `${JSON.stringify(
    {
      global: { scrape_interval: interval, evaluation_interval: interval },
      scrape_configs: [
        {
          job_name: 'chatcluster',
          // Changes arrive through the file watch; the interval only backs it up.
          file_sd_configs: [{ files: [options.targetFile], refresh_interval: '30s' }],
        },
        { job_name: 'chatcluster-operator', static_configs: [{ targets: [options.operator] }] },
      ],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] },
    },
    null,
    2,
  )}\n`;
}
