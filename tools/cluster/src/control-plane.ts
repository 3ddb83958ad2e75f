// The control plane's processes: etcd, kube-apiserver, kube-controller-manager and kube-scheduler,
// each a ManagedProcess (own process group, log file, readiness wait) like every harness component.
import { join } from 'node:path';
import { ManagedProcess, httpGet, locateBinary, startEtcd, type EtcdServer } from '@chatcluster/harness';
import { API_SERVER_URL, NODE_ADDRESS, PORTS, SERVICE_CIDR, type ClusterDirs } from './layout.js';
import type { ClusterPki } from './pki.js';

export interface ControlPlane {
  etcd: EtcdServer;
  apiServer: ManagedProcess;
  controllerManager: ManagedProcess;
  scheduler: ManagedProcess;
}

const healthy =
  (url: string, pki: ClusterPki, cert = pki.apiServerKubeletClient) =>
  async () =>
    (await httpGet(url, { tls: { ca: pki.ca.certPem, cert: cert.certPem, key: cert.keyPem } })).status ===
    200;

export async function startApiServer(
  dirs: ClusterDirs,
  pki: ClusterPki,
  etcd: EtcdServer,
  logDir: string,
): Promise<ManagedProcess> {
  return ManagedProcess.start({
    name: 'kube-apiserver',
    command: locateBinary('kube-apiserver'),
    args: [
      `--etcd-servers=${etcd.url}`,
      `--bind-address=${NODE_ADDRESS}`,
      `--advertise-address=${NODE_ADDRESS}`,
      `--secure-port=${PORTS.apiServer}`,
      `--cert-dir=${dirs.pki}`,
      `--tls-cert-file=${pki.apiServer.certFile}`,
      `--tls-private-key-file=${pki.apiServer.keyFile}`,
      `--client-ca-file=${pki.ca.certFile}`,
      `--kubelet-client-certificate=${pki.apiServerKubeletClient.certFile}`,
      `--kubelet-client-key=${pki.apiServerKubeletClient.keyFile}`,
      `--kubelet-certificate-authority=${pki.ca.certFile}`,
      '--kubelet-preferred-address-types=InternalIP',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      `--service-account-issuer=https://kubernetes.default.svc`,
      `--service-account-key-file=${pki.serviceAccount.publicKeyFile}`,
      `--service-account-signing-key-file=${pki.serviceAccount.privateKeyFile}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--allow-privileged=true',
    ],
    logFile: join(logDir, 'kube-apiserver.log'),
    ready: healthy(`${API_SERVER_URL}/readyz`, pki),
    readyTimeoutMs: 120_000,
    probeIntervalMs: 250,
  });
}

/**
 * A controller-manager or scheduler: it reads the API with its own identity, serves /healthz on the
 * node address with the node's certificate, and leads alone (one replica, no election).
 */
function startControlPlaneComponent(
  name: 'kube-controller-manager' | 'kube-scheduler',
  kubeconfig: string,
  port: number,
  pki: ClusterPki,
  logDir: string,
  extraArgs: string[] = [],
): Promise<ManagedProcess> {
  return ManagedProcess.start({
    name,
    command: locateBinary(name),
    args: [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--bind-address=${NODE_ADDRESS}`,
      `--secure-port=${port}`,
      `--tls-cert-file=${pki.nodeServing.certFile}`,
      `--tls-private-key-file=${pki.nodeServing.keyFile}`,
      '--leader-elect=false',
      ...extraArgs,
    ],
    logFile: join(logDir, `${name}.log`),
    ready: healthy(`https://${NODE_ADDRESS}:${port}/healthz`, pki),
    readyTimeoutMs: 60_000,
    probeIntervalMs: 250,
  });
}

export function startControllerManager(pki: ClusterPki, logDir: string): Promise<ManagedProcess> {
  return startControlPlaneComponent(
    'kube-controller-manager',
    pki.kubeconfigs['controller-manager'],
    PORTS.controllerManager,
    pki,
    logDir,
    [
      // Each controller acts as its own service account, with the RBAC roles upstream defines.
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki.serviceAccount.privateKeyFile}`,
      `--root-ca-file=${pki.ca.certFile}`,
      `--cluster-signing-cert-file=${pki.ca.certFile}`,
      `--cluster-signing-key-file=${pki.ca.keyFile}`,
    ],
  );
}

export function startScheduler(pki: ClusterPki, logDir: string): Promise<ManagedProcess> {
  return startControlPlaneComponent(
    'kube-scheduler',
    pki.kubeconfigs.scheduler,
    PORTS.scheduler,
    pki,
    logDir,
  );
}

export { startEtcd };
