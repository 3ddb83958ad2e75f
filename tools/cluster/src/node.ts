// The node's processes: the kubelet (pods on containerd, probes, restarts) and kube-proxy (Services
// as iptables rules). Their configuration files come from node-config.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, httpGet, locateBinary } from '@chatcluster/harness';
import { NODE_ADDRESS, NODE_NAME, PORTS, type ClusterDirs } from './layout.js';
import { kubeProxyConfig, kubeletConfig, resolvConf } from './node-config.js';
import type { ClusterPki } from './pki.js';

const plainHealthz = (url: string) => async () => (await httpGet(url)).status === 200;

export async function startKubelet(
  dirs: ClusterDirs,
  pki: ClusterPki,
  logDir: string,
): Promise<ManagedProcess> {
  mkdirSync(dirs.kubeletRoot, { recursive: true });
  const resolvFile = join(dirs.config, 'resolv.conf');
  writeFileSync(resolvFile, resolvConf());
  const configFile = join(dirs.config, 'kubelet.yaml');
  writeFileSync(
    configFile,
    kubeletConfig(dirs, {
      clientCaFile: pki.ca.certFile,
      tlsCertFile: pki.nodeServing.certFile,
      tlsPrivateKeyFile: pki.nodeServing.keyFile,
      resolvConf: resolvFile,
    }),
  );
  return ManagedProcess.start({
    name: 'kubelet',
    command: locateBinary('kubelet'),
    args: [
      `--config=${configFile}`,
      `--kubeconfig=${pki.kubeconfigs.kubelet}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${NODE_ADDRESS}`,
      `--root-dir=${dirs.kubeletRoot}`,
      '--v=1',
    ],
    logFile: join(logDir, 'kubelet.log'),
    ready: plainHealthz(`http://${NODE_ADDRESS}:${PORTS.kubeletHealthz}/healthz`),
    readyTimeoutMs: 60_000,
    probeIntervalMs: 250,
    stopSignal: 'SIGTERM',
    stopGraceMs: 5_000,
  });
}

export async function startKubeProxy(
  dirs: ClusterDirs,
  pki: ClusterPki,
  logDir: string,
): Promise<ManagedProcess> {
  const configFile = join(dirs.config, 'kube-proxy.yaml');
  writeFileSync(configFile, kubeProxyConfig(pki.kubeconfigs['kube-proxy']));
  return ManagedProcess.start({
    name: 'kube-proxy',
    command: locateBinary('kube-proxy'),
    args: [`--config=${configFile}`, '--v=1'],
    logFile: join(logDir, 'kube-proxy.log'),
    ready: plainHealthz(`http://${NODE_ADDRESS}:${PORTS.kubeProxyHealthz}/healthz`),
    readyTimeoutMs: 60_000,
    probeIntervalMs: 250,
  });
}
