// The cluster's certificates and kubeconfigs: one CA; a serving certificate for the API server and
// one for the kubelet; a client certificate for each component, with the user and group names the
// API server's built-in RBAC roles and the Node authorizer expect.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  createServiceAccountKeys,
  issueCertificate,
  kubeconfigYaml,
  leafExtensions,
  type PemFiles,
} from '@chatcluster/harness';
import { API_SERVER_URL, CLUSTER_DOMAIN, NODE_ADDRESS, NODE_NAME } from './layout.js';

const KUBERNETES_SERVICE_IP = '10.96.0.1';

export interface ClusterPki {
  ca: PemFiles;
  apiServer: PemFiles;
  /** The API server's client certificate towards kubelets (logs, exec, port-forward). */
  apiServerKubeletClient: PemFiles;
  /** Serving certificate for the components that listen on the node address (kubelet, controller
   * manager, scheduler), so their health endpoints verify against the cluster CA. */
  nodeServing: PemFiles;
  serviceAccount: { privateKeyFile: string; publicKeyFile: string };
  /** Client certificates and kubeconfig files by user: admin, controller-manager, scheduler, kubelet, kube-proxy. */
  clients: Record<KubeconfigUser, PemFiles>;
  kubeconfigs: Record<KubeconfigUser, string>;
}

export type KubeconfigUser = 'admin' | 'controller-manager' | 'scheduler' | 'kubelet' | 'kube-proxy';

/** The client identities: [common name, organization]. */
const CLIENTS: Record<KubeconfigUser, [string, string | undefined]> = {
  admin: ['chatcluster-admin', 'system:masters'],
  'controller-manager': ['system:kube-controller-manager', undefined],
  scheduler: ['system:kube-scheduler', undefined],
  kubelet: [`system:node:${NODE_NAME}`, 'system:nodes'],
  'kube-proxy': ['system:kube-proxy', undefined],
};

export async function createClusterPki(dir: string): Promise<ClusterPki> {
  const ca = await createCertificateAuthority(dir, 'chatcluster-local-ca');
  const server = (name: string, commonName: string, sans: string[]) =>
    issueCertificate({
      dir,
      name,
      commonName,
      extensions: [...leafExtensions('serverAuth'), `subjectAltName = ${sans.join(', ')}`],
      issuer: ca,
    });
  const client = (name: string, [commonName, organization]: [string, string | undefined]) =>
    issueCertificate({
      dir,
      name,
      commonName,
      ...(organization ? { organization } : {}),
      extensions: leafExtensions('clientAuth'),
      issuer: ca,
    });
  const [apiServer, apiServerKubeletClient, nodeServing, serviceAccount] = await Promise.all([
    server('apiserver', 'kube-apiserver', [
      `IP:${NODE_ADDRESS}`,
      'IP:127.0.0.1',
      `IP:${KUBERNETES_SERVICE_IP}`,
      'DNS:localhost',
      'DNS:kubernetes',
      'DNS:kubernetes.default',
      'DNS:kubernetes.default.svc',
      `DNS:kubernetes.default.svc.${CLUSTER_DOMAIN}`,
    ]),
    client('apiserver-kubelet-client', ['kube-apiserver-kubelet-client', 'system:masters']),
    server('node-serving', NODE_NAME, [`IP:${NODE_ADDRESS}`, `DNS:${NODE_NAME}`]),
    createServiceAccountKeys(dir),
  ]);
  const kubeconfigs = {} as Record<KubeconfigUser, string>;
  const clients = {} as Record<KubeconfigUser, PemFiles>;
  for (const [user, identity] of Object.entries(CLIENTS) as [
    KubeconfigUser,
    [string, string | undefined],
  ][]) {
    const cert = await client(`${user}-client`, identity);
    clients[user] = cert;
    const file = join(dir, `${user}.kubeconfig`);
    await writeFile(
      file,
      kubeconfigYaml(
        { name: 'chatcluster', server: API_SERVER_URL, caPem: ca.certPem },
        { name: identity[0], certPem: cert.certPem, keyPem: cert.keyPem },
      ),
      { mode: 0o600 },
    );
    kubeconfigs[user] = file;
  }
  return { ca, apiServer, apiServerKubeletClient, nodeServing, serviceAccount, clients, kubeconfigs };
}
