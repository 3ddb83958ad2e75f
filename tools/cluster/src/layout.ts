// Where the local cluster lives on this machine: its addresses, ports and directories. Every other
// file takes these from here, so the layout can be read in one place (docs/architecture.md shows it).
import { join } from 'node:path';

/** The node's name, as the kubelet registers it. */
export const NODE_NAME = 'chatcluster';
/** An empty bridge that only holds the node address (no `dummy` link type in this VM's kernel). */
export const NODE_BRIDGE = 'chatcluster0';
/** The node's and the API server's address; pods reach host services (the data stores) on it. */
export const NODE_ADDRESS = '10.250.0.1';
/** The bridge the CNI `bridge` plugin puts pods on. */
export const POD_BRIDGE = 'chatclusterpods';
export const POD_SUBNET = '10.244.0.0/24';
export const CLUSTER_CIDR = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/16';
export const DNS_SERVICE_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';

/** Fixed ports, all bound to NODE_ADDRESS, an address nothing else on the machine uses. */
export const PORTS = {
  apiServer: 6443,
  kubelet: 10250,
  kubeletHealthz: 10248,
  controllerManager: 10257,
  scheduler: 10259,
  kubeProxyMetrics: 10249,
  kubeProxyHealthz: 10256,
} as const;

/** The range NodePort Services get ports from (the API server's default). */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

export interface ClusterDirs {
  /** Survives runs: containerd's content store, so images are imported once. */
  containerdRoot: string;
  /** Wiped at every start and stop: kubelet root, CNI IPAM state, PKI, configs. */
  run: string;
  /** containerd's state and socket, the lock file (tmpfs under /run: gone after a reboot). */
  runtime: string;
  containerdSocket: string;
  lockFile: string;
  kubeletRoot: string;
  cniConfDir: string;
  cniIpamDir: string;
  pki: string;
  config: string;
}

export function clusterDirs(
  stateDir = process.env.CHATCLUSTER_STATE_DIR || '/var/lib/chatcluster',
  runtimeDir = process.env.CHATCLUSTER_RUNTIME_DIR || '/run/chatcluster',
): ClusterDirs {
  const run = join(stateDir, 'run');
  return {
    containerdRoot: join(stateDir, 'containerd'),
    run,
    runtime: runtimeDir,
    containerdSocket: join(runtimeDir, 'containerd', 'containerd.sock'),
    lockFile: join(runtimeDir, 'cluster.pid'),
    kubeletRoot: join(run, 'kubelet'),
    cniConfDir: join(run, 'cni', 'net.d'),
    cniIpamDir: join(run, 'cni', 'ipam'),
    pki: join(run, 'pki'),
    config: join(run, 'config'),
  };
}

/** `https://10.250.0.1:6443` */
export const API_SERVER_URL = `https://${NODE_ADDRESS}:${PORTS.apiServer}`;
