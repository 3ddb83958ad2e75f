// The local single-node cluster as one unit: takes the machine's lock, cleans what a killed run
// left, prepares the host, starts containerd (imports the images), the control plane, the kubelet,
// kube-proxy and CoreDNS, and waits until the node is Ready and DNS answers. stop() undoes it all.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  eventually,
  locateBinary,
  runCommand,
  type CommandResult,
  type EtcdServer,
  type ManagedProcess,
} from '@chatcluster/harness';
import { buildAndImportImages, type BuiltImages } from '@chatcluster/images';
import { ctr, removeLeftoverContainers, startContainerd } from './containerd.js';
import { startApiServer, startControllerManager, startEtcd, startScheduler } from './control-plane.js';
import { coreDnsObjects } from './coredns.js';
import { ClusterLock, prepareHost, requireRoot, restoreHost } from './host.js';
import { API_SERVER_URL, NODE_ADDRESS, NODE_NAME, clusterDirs } from './layout.js';
import { startKubeProxy, startKubelet } from './node.js';
import { cniConfList } from './node-config.js';
import { createClusterPki } from './pki.js';

export interface LocalCluster {
  /** `https://10.250.0.1:6443` */
  server: string;
  /** An admin (system:masters) kubeconfig; gone once the cluster stops. */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** The admin's client certificate files, for clients that take files (Prometheus' kubernetes_sd). */
  adminTls: { caFile: string; certFile: string; keyFile: string };
  /** The node's address: NodePorts answer on it, pods reach host services on it. */
  nodeAddress: string;
  nodeName: string;
  containerdSocket: string;
  /** The images imported into the node's containerd. */
  images: BuiltImages;
  /** containerd.log, kube-apiserver.log, kubelet.log, … */
  logDir: string;
  kubectl(args: readonly string[], options?: { input?: string }): Promise<CommandResult>;
  /** `ctr` against the node's containerd, in the kubelet's namespace (kill a container, tag an image). */
  ctr(args: string[]): Promise<CommandResult>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  logDir: string;
  progress?: (line: string) => void;
  /** Repository of the ChatCluster images (default chatcluster.local). */
  imageRepository?: string;
}

export async function startCluster(options: ClusterOptions): Promise<LocalCluster> {
  const progress = options.progress ?? (() => undefined);
  const { logDir } = options;
  requireRoot();
  const dirs = clusterDirs();
  const { lock, stale } = ClusterLock.acquire(dirs);
  const started: (ManagedProcess | EtcdServer)[] = [];
  const track = <T extends ManagedProcess | EtcdServer>(part: T, name: string): T => {
    started.push(part);
    lock.track(part.pid, name);
    return part;
  };
  const stop = async (): Promise<void> => {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
    await restoreHost(dirs);
    lock.release();
  };
  try {
    if (stale) progress(`cleaning up after a cluster that was not stopped (process ${stale.pid})`);
    await restoreHost(dirs, stale);
    mkdirSync(logDir, { recursive: true });
    await prepareHost(dirs);
    for (const dir of [dirs.cniConfDir, dirs.pki, dirs.config]) mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dirs.cniConfDir, '10-chatcluster.conflist'),
      JSON.stringify(cniConfList(dirs), null, 2),
    );

    progress('starting containerd and importing the images');
    track(await startContainerd(dirs, logDir), 'containerd');
    await removeLeftoverContainers(dirs);
    const [images, pki] = await Promise.all([
      buildAndImportImages({
        containerdSocket: dirs.containerdSocket,
        ...(options.imageRepository ? { repository: options.imageRepository } : {}),
        log: progress,
      }),
      createClusterPki(dirs.pki),
    ]);

    progress('starting the control plane (etcd, kube-apiserver, controller-manager, scheduler)');
    const etcd = track(await startEtcd(), 'etcd');
    track(await startApiServer(dirs, pki, etcd, logDir), 'kube-apiserver');
    const kubeconfigPath = pki.kubeconfigs.admin;
    const kubectl = (args: readonly string[], runOptions: { input?: string } = {}) =>
      runCommand(locateBinary('kubectl'), ['--kubeconfig', kubeconfigPath, ...args], {
        input: runOptions.input,
      });
    await eventually(
      'namespace default',
      async () => (await kubectl(['get', 'namespace', 'default'])).code === 0,
      60_000,
      250,
    );
    track(await startControllerManager(pki, logDir), 'kube-controller-manager');
    track(await startScheduler(pki, logDir), 'kube-scheduler');

    progress('starting the node (kubelet, kube-proxy)');
    track(await startKubelet(dirs, pki, logDir), 'kubelet');
    await eventually(
      `node ${NODE_NAME} registered`,
      async () => (await kubectl(['get', 'node', NODE_NAME])).code === 0,
      60_000,
      250,
    );
    track(await startKubeProxy(dirs, pki, logDir), 'kube-proxy');

    progress('starting CoreDNS');
    const applied = await kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: coreDnsObjects(images.images.coredns) }),
    });
    if (applied.code !== 0) throw new Error(`could not apply CoreDNS: ${applied.stderr.trim()}`);
    const waited = await kubectl(['wait', `node/${NODE_NAME}`, '--for=condition=Ready', '--timeout=90s']);
    if (waited.code !== 0) throw new Error(`node ${NODE_NAME} did not become Ready: ${waited.stderr.trim()}`);
    const dns = await kubectl([
      '-n',
      'kube-system',
      'rollout',
      'status',
      'deployment/coredns',
      '--timeout=120s',
    ]);
    if (dns.code !== 0) {
      throw new Error(
        `CoreDNS did not become ready: ${dns.stderr.trim()} (see ${join(logDir, 'kubelet.log')})`,
      );
    }
    progress(`cluster ready: node ${NODE_NAME} at ${NODE_ADDRESS}`);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    return {
      server: API_SERVER_URL,
      kubeconfigPath,
      kubeConfig,
      adminTls: {
        caFile: pki.ca.certFile,
        certFile: pki.clients.admin.certFile,
        keyFile: pki.clients.admin.keyFile,
      },
      nodeAddress: NODE_ADDRESS,
      nodeName: NODE_NAME,
      containerdSocket: dirs.containerdSocket,
      images,
      logDir,
      kubectl,
      ctr: (args) => ctr(dirs, args),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
