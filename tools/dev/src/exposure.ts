// How `make dev` reaches the chat services from this machine: a NodePort Service per component on
// fixed ports of the node address, selecting the same pods as the operator's ClusterIP Service (what
// `kubectl expose` would make). No ingress controller can be built here (docs/architecture.md says
// which were tried); the operator's Ingress object is still created and validated by the API server.
import type { LocalCluster } from '@chatcluster/cluster';
import { eventually, httpGet } from '@chatcluster/harness';

export const NODE_PORTS = { message: 30080, auth: 30081, notification: 30082 } as const;
export type ExposedComponent = keyof typeof NODE_PORTS;

/** The NodePort Services for the ChatCluster `cluster` in `namespace`. Pure. */
export function nodePortServices(cluster: string, namespace: string): Record<string, unknown>[] {
  return (Object.entries(NODE_PORTS) as [ExposedComponent, number][]).map(([component, nodePort]) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `${cluster}-${component}-nodeport`,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'chatcluster-dev' },
    },
    spec: {
      type: 'NodePort',
      selector: { 'app.kubernetes.io/name': component, 'app.kubernetes.io/instance': cluster },
      ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort, protocol: 'TCP' }],
    },
  }));
}

export async function exposeServices(
  cluster: LocalCluster,
  name: string,
  namespace: string,
): Promise<Record<ExposedComponent, string>> {
  const applied = await cluster.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: nodePortServices(name, namespace) }),
  });
  if (applied.code !== 0) throw new Error(`could not create the NodePort Services: ${applied.stderr.trim()}`);
  const url = (component: ExposedComponent) => `http://${cluster.nodeAddress}:${NODE_PORTS[component]}`;
  const urls = { message: url('message'), auth: url('auth'), notification: url('notification') };
  // kube-proxy programs a new Service a moment after it is created: wait until each one answers.
  for (const [component, base] of Object.entries(urls)) {
    await eventually(
      `the ${component} NodePort ${base} answering`,
      async () => (await httpGet(`${base}/health/liveness`)).status === 200,
      60_000,
      250,
    );
  }
  return urls;
}
