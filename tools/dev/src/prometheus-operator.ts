// The Prometheus Operator in the local cluster, installed from the manifests its own module ships
// (all its CRDs, the RBAC examples for the operator and for Prometheus, cached by tools/setup/crds.sh),
// with images built from the same module (tools/images). It reconciles the ServiceMonitors and the
// PrometheusRule the ChatCluster operator writes into a real Prometheus: the objects are proved by the
// component that reads them in production, not by a hand-made scrape config. Alerts go to the
// Alertmanager on this machine (through `additionalAlertManagerConfigs`), where the tests read them.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import type { LocalCluster } from '@chatcluster/cluster';
import { cacheDir, eventually, httpGet } from '@chatcluster/harness';

export const MONITORING_NAMESPACE = 'monitoring';
/** The Prometheus object's name; the operator's governing Service is `prometheus-operated`. */
export const PROMETHEUS_NAME = 'chatcluster';
export const PROMETHEUS_NODE_PORT = 30090;
const ALERTMANAGERS_SECRET = 'additional-alertmanagers';

export interface PrometheusOperatorImages {
  operator: string;
  configReloader: string;
  prometheus: string;
}

export interface MonitoringOptions {
  images: PrometheusOperatorImages;
  /** `host:port` of the Alertmanager Prometheus sends alerts to (reachable from pods). */
  alertmanager: string;
  /** The Prometheus version the image holds (the operator adapts its flags to it). */
  prometheusVersion: string;
  /** Rule evaluation interval (and the default scrape interval). */
  interval?: string;
}

type KubeObject = Record<string, unknown> & { kind: string; metadata: Record<string, unknown> };

const manifestsDir = (): string => join(cacheDir(), 'manifests', 'prometheus-operator');

function readObjects(dir: string, skip: (file: string) => boolean = () => false): KubeObject[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith('.yaml') && !skip(file));
  } catch {
    throw new Error(`${dir} is missing: run make setup (tools/setup/crds.sh copies it from the module)`);
  }
  return files.flatMap((file) => loadAllYaml(readFileSync(join(dir, file), 'utf8')) as KubeObject[]);
}

/**
 * The upstream RBAC examples for the operator and for Prometheus, moved to `namespace`, with the local
 * images. The example's own Prometheus object and the operator's ServiceMonitor are left out (ours is
 * below; the operator's metrics are not part of the platform). Pure apart from reading the cache.
 */
export function prometheusOperatorObjects(
  options: MonitoringOptions,
  namespace = MONITORING_NAMESPACE,
  dir = manifestsDir(),
): KubeObject[] {
  const upstream = [
    ...readObjects(join(dir, 'operator'), (file) => file.includes('service-monitor')),
    ...readObjects(join(dir, 'prometheus'), (file) => file === 'prometheus.yaml'),
  ];
  const objects = upstream.map((object) => relocate(object, namespace));
  const deployment = objects.find((o) => o.kind === 'Deployment');
  if (!deployment) throw new Error(`no Deployment in ${dir}/operator; did the upstream layout change?`);
  useLocalImages(deployment, options.images);
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    ...objects,
    alertmanagersSecret(options.alertmanager, namespace),
    prometheus(options, namespace),
    prometheusNodePort(namespace),
  ];
}

/** Namespaced objects into `namespace`; bindings' ServiceAccount subjects follow them. */
function relocate(object: KubeObject, namespace: string): KubeObject {
  const copy = structuredClone(object);
  if (!copy.kind.startsWith('Cluster')) copy.metadata.namespace = namespace;
  const subjects = (copy as { subjects?: { kind: string; namespace?: string }[] }).subjects;
  for (const subject of subjects ?? []) if (subject.kind === 'ServiceAccount') subject.namespace = namespace;
  return copy;
}

function useLocalImages(deployment: KubeObject, images: PrometheusOperatorImages): void {
  type Deployment = { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
  const containers = (deployment as unknown as Deployment).spec.template.spec.containers;
  const operator = containers.find((c) => c.name === 'prometheus-operator');
  if (!operator) throw new Error('the Prometheus Operator Deployment has no prometheus-operator container');
  operator.image = images.operator;
  operator.imagePullPolicy = 'Never';
  const args = (operator.args as string[]).filter((arg) => !arg.startsWith('--prometheus-config-reloader='));
  operator.args = [...args, `--prometheus-config-reloader=${images.configReloader}`];
}

/** `additionalAlertManagerConfigs`: a plain Alertmanager config list, here one static target. */
function alertmanagersSecret(alertmanager: string, namespace: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: ALERTMANAGERS_SECRET, namespace },
    stringData: {
      'alertmanagers.yaml': JSON.stringify([{ static_configs: [{ targets: [alertmanager] }] }]),
    },
  };
}

/** One Prometheus selecting every ServiceMonitor and PrometheusRule in every namespace. */
function prometheus(options: MonitoringOptions, namespace: string): KubeObject {
  const interval = options.interval ?? '15s';
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'Prometheus',
    metadata: { name: PROMETHEUS_NAME, namespace },
    spec: {
      replicas: 1,
      image: options.images.prometheus,
      imagePullPolicy: 'Never',
      version: options.prometheusVersion,
      serviceAccountName: 'prometheus',
      serviceMonitorSelector: {},
      serviceMonitorNamespaceSelector: {},
      podMonitorSelector: {},
      podMonitorNamespaceSelector: {},
      ruleSelector: {},
      ruleNamespaceSelector: {},
      scrapeInterval: interval,
      evaluationInterval: interval,
      retention: '1d',
      additionalAlertManagerConfigs: { name: ALERTMANAGERS_SECRET, key: 'alertmanagers.yaml' },
      resources: { requests: { cpu: '50m', memory: '200Mi' } },
    },
  };
}

/** Prometheus' API and UI on a fixed port of the node address, for people and tests on this machine. */
function prometheusNodePort(namespace: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'prometheus-nodeport', namespace },
    spec: {
      type: 'NodePort',
      selector: { 'app.kubernetes.io/name': 'prometheus', 'app.kubernetes.io/instance': PROMETHEUS_NAME },
      ports: [{ name: 'web', port: 9090, targetPort: 'web', nodePort: PROMETHEUS_NODE_PORT }],
    },
  };
}

export interface InClusterPrometheus {
  /** `http://<node>:30090` */
  url: string;
  /** What the ChatCluster's analysis queries: `http://prometheus-operated.monitoring.svc:9090`. */
  inClusterUrl: string;
}

/** Installs the CRDs, the operator and a Prometheus; resolves once Prometheus answers ready. */
export async function installPrometheusOperator(
  cluster: LocalCluster,
  options: MonitoringOptions,
): Promise<InClusterPrometheus> {
  // The Prometheus CRD is larger than client-side apply's annotation allows.
  const crds = await cluster.kubectl([
    'apply',
    '--server-side',
    '--force-conflicts',
    '-f',
    join(manifestsDir(), 'crds'),
  ]);
  if (crds.code !== 0)
    throw new Error(`could not install the Prometheus Operator CRDs: ${crds.stderr.trim()}`);
  const established = await cluster.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/prometheuses.monitoring.coreos.com',
  ]);
  if (established.code !== 0)
    throw new Error(`the Prometheus CRD was not established: ${established.stderr.trim()}`);
  const applied = await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: prometheusOperatorObjects(options) }),
  });
  if (applied.code !== 0)
    throw new Error(`could not install the Prometheus Operator: ${applied.stderr.trim()}`);
  const url = `http://${cluster.nodeAddress}:${PROMETHEUS_NODE_PORT}`;
  await eventually(
    `Prometheus (made by the Prometheus Operator) ready at ${url}`,
    async () => (await httpGet(`${url}/-/ready`).catch(() => ({ status: 0 }))).status === 200,
    180_000,
    1000,
  );
  return { url, inClusterUrl: `http://prometheus-operated.${MONITORING_NAMESPACE}.svc:9090` };
}
