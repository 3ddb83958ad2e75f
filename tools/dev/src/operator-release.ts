// The operator, installed into the local cluster as users install it: `helm install` of the chart in
// charts/chatcluster-operator (its CRD, RBAC, two replicas with leader election, PDB), with the
// locally built image, and its ServiceMonitor for the in-cluster Prometheus.
import { fileURLToPath } from 'node:url';
import { helm } from '@chatcluster/harness';
import type { LocalCluster } from '@chatcluster/cluster';

const chart = fileURLToPath(new URL('../../../../charts/chatcluster-operator', import.meta.url));
export const OPERATOR_NAMESPACE = 'chatcluster-system';
export const OPERATOR_RELEASE = 'chatcluster-operator';

/** `ghcr.io/x/operator:1.2.3` -> [`ghcr.io/x/operator`, `1.2.3`] */
function splitImage(image: string): [string, string] {
  const colon = image.lastIndexOf(':');
  return [image.slice(0, colon), image.slice(colon + 1)];
}

export async function installOperator(cluster: LocalCluster, image: string): Promise<void> {
  const [repository, tag] = splitImage(image);
  const result = await helm([
    'upgrade',
    '--install',
    OPERATOR_RELEASE,
    chart,
    '--kubeconfig',
    cluster.kubeconfigPath,
    '--namespace',
    OPERATOR_NAMESPACE,
    '--create-namespace',
    '--set',
    `image.repository=${repository}`,
    '--set',
    `image.tag=${tag}`,
    '--set',
    'image.pullPolicy=Never',
    '--set',
    'metrics.serviceMonitor.enabled=true',
    '--wait',
    '--timeout',
    '180s',
  ]);
  if (result.code !== 0) {
    throw new Error(`helm install of the operator failed: ${(result.stderr || result.stdout).trim()}`);
  }
}
