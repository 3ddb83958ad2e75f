// The files the node's components read, as pure functions of the layout: containerd's config, the
// CNI network, the kubelet's and kube-proxy's configurations. Values and the traps they avoid are
// from ../shared/reference/single-node-kubernetes.md (docs/architecture.md repeats the why).
import { dumpYaml } from '@kubernetes/client-node';
import {
  CLUSTER_CIDR,
  CLUSTER_DOMAIN,
  DNS_SERVICE_IP,
  NODE_ADDRESS,
  NODE_NAME,
  POD_BRIDGE,
  POD_SUBNET,
  PORTS,
  type ClusterDirs,
} from './layout.js';

/** The name containerd's CRI plugin gives the sandbox; tools/images imports the pause image under it. */
export const SANDBOX_IMAGE = 'registry.k8s.io/pause:3.10';
export const CNI_BIN_DIR = '/usr/lib/cni';

export function containerdConfig(dirs: ClusterDirs): string {
  return `version = 2
root = "${dirs.containerdRoot}"
state = "${dirs.runtime}/containerd"

[grpc]
  address = "${dirs.containerdSocket}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${SANDBOX_IMAGE}"
  # The VM's bounding set lacks CAP_SYS_RESOURCE: the kubelet's oom_score_adj of -998 would fail
  # every sandbox with "can't get final child's PID from pipe".
  restrict_oom_score_adj = true
  # Pod network namespaces under our state, so stopping the cluster finds and unmounts them all.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # No systemd here: cgroupfs, as the kubelet's cgroupDriver.
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${dirs.cniConfDir}"
`;
}

/** One bridge for every pod; `firewall` lets pod traffic through a FORWARD policy of DROP. */
export function cniConfList(dirs: ClusterDirs): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: 'chatcluster',
    plugins: [
      {
        type: 'bridge',
        bridge: POD_BRIDGE,
        isGateway: true,
        // A pod reaching its own Service through kube-proxy comes back on the port it left by.
        hairpinMode: true,
        // Pods talk only to each other and to this machine: nothing to masquerade.
        ipMasq: false,
        ipam: {
          type: 'host-local',
          dataDir: dirs.cniIpamDir,
          ranges: [[{ subnet: POD_SUBNET }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      { type: 'firewall' },
    ],
  };
}

export interface KubeletFiles {
  clientCaFile: string;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  resolvConf: string;
}

export function kubeletConfig(dirs: ClusterDirs, files: KubeletFiles): string {
  return dumpYaml({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: NODE_ADDRESS,
    port: PORTS.kubelet,
    healthzBindAddress: NODE_ADDRESS,
    healthzPort: PORTS.kubeletHealthz,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: files.clientCaFile },
    },
    authorization: { mode: 'Webhook' },
    tlsCertFile: files.tlsCertFile,
    tlsPrivateKeyFile: files.tlsPrivateKeyFile,
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${dirs.containerdSocket}`,
    failSwapOn: false,
    clusterDNS: [DNS_SERVICE_IP],
    clusterDomain: CLUSTER_DOMAIN,
    resolvConf: files.resolvConf,
    // Nothing can be pulled back once collected, and the disk is shared with the builds.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '2%', 'imagefs.available': '2%' },
    imageGCHighThresholdPercent: 99,
    imageGCLowThresholdPercent: 98,
    // Probes and status reach the API server sooner than the defaults (a development cluster).
    nodeStatusUpdateFrequency: '4s',
    syncFrequency: '10s',
  });
}

export function kubeProxyConfig(kubeconfig: string): string {
  return dumpYaml({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig },
    clusterCIDR: CLUSTER_CIDR,
    hostnameOverride: NODE_NAME,
    bindAddress: NODE_ADDRESS,
    healthzBindAddress: `${NODE_ADDRESS}:${PORTS.kubeProxyHealthz}`,
    metricsBindAddress: `${NODE_ADDRESS}:${PORTS.kubeProxyMetrics}`,
    // NodePorts answer on the node address only, never on the machine's other interfaces.
    nodePortAddresses: [`${NODE_ADDRESS}/32`],
    // conntrack limits are the kernel's (a VM may refuse to change them).
    conntrack: { maxPerCore: 0 },
    iptables: { syncPeriod: '10s', minSyncPeriod: '0s' },
  });
}

/** The resolv.conf pods with dnsPolicy Default get: only the cluster DNS (nothing upstream resolves). */
export function resolvConf(): string {
  return `nameserver ${DNS_SERVICE_IP}\n`;
}
