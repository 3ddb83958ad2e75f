// A real Kubernetes API server for operator tests, started the way controller-runtime's envtest
// does it: etcd plus kube-apiserver with a generated PKI, RBAC, and an admin in system:masters.
// No controllers, scheduler or kubelet run, so objects are stored and validated but never acted on.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { KubeConfig, dumpYaml } from '@kubernetes/client-node';
import { locateBinary } from './binaries.js';
import { startEtcd } from './etcd.js';
import type { EtcdServer } from './etcd.js';
import { httpGet } from './http-get.js';
import { ManagedProcess } from './managed-process.js';
import { createControlPlanePki } from './pki.js';
import type { ControlPlanePki } from './pki.js';
import { freePort } from './ports.js';
import { runCommand } from './run-command.js';
import type { CommandResult } from './run-command.js';
import { createTempDir, removeTempDir } from './tempdir.js';

export interface KubeApiServerOptions {
  /** Extra `--flag=value` arguments for kube-apiserver. */
  extraArgs?: string[];
  /** How long to wait for /readyz (default 90 s; a cold start takes 10-30 s). */
  readyTimeoutMs?: number;
}

export interface KubeApiServer {
  /** `https://127.0.0.1:<port>` */
  server: string;
  kubeconfigPath: string;
  /** Loaded from kubeconfigPath: user `harness-admin` in group system:masters. */
  kubeConfig: KubeConfig;
  etcdUrl: string;
  etcdPid: number;
  apiServerPid: number;
  /** Runs kubectl against this server. */
  kubectl(args: readonly string[], options?: { input?: string }): Promise<CommandResult>;
  stop(): Promise<void>;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

export interface KubeconfigUser {
  name: string;
  certPem: string;
  keyPem: string;
}

/** A kubeconfig (YAML) with one cluster, one certificate-authenticated user and one context. */
export function kubeconfigYaml(
  cluster: { name: string; server: string; caPem: string },
  user: KubeconfigUser,
  namespace = 'default',
): string {
  return dumpYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster.name,
        cluster: { server: cluster.server, 'certificate-authority-data': base64(cluster.caPem) },
      },
    ],
    users: [
      {
        name: user.name,
        user: { 'client-certificate-data': base64(user.certPem), 'client-key-data': base64(user.keyPem) },
      },
    ],
    contexts: [{ name: cluster.name, context: { cluster: cluster.name, user: user.name, namespace } }],
    'current-context': cluster.name,
  });
}

async function writeKubeconfig(path: string, server: string, pki: ControlPlanePki): Promise<void> {
  const yaml = kubeconfigYaml(
    { name: 'harness', server, caPem: pki.ca.certPem },
    { name: 'harness-admin', certPem: pki.admin.certPem, keyPem: pki.admin.keyPem },
  );
  await writeFile(path, yaml, { mode: 0o600 });
}

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const apiServerBinary = locateBinary('kube-apiserver');
  const dir = createTempDir('kube');
  let etcd: EtcdServer | undefined;
  let apiServer: ManagedProcess | undefined;
  try {
    const [pki, startedEtcd, port] = await Promise.all([createControlPlanePki(dir), startEtcd(), freePort()]);
    etcd = startedEtcd;
    const server = `https://127.0.0.1:${port}`;
    const tls = { ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem };
    const readyTimeoutMs = options.readyTimeoutMs ?? 90_000;
    const deadline = Date.now() + readyTimeoutMs;
    apiServer = await ManagedProcess.start({
      name: 'kube-apiserver',
      command: apiServerBinary,
      args: [
        `--etcd-servers=${etcd.url}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${port}`,
        `--cert-dir=${dir}`,
        `--tls-cert-file=${pki.serving.certFile}`,
        `--tls-private-key-file=${pki.serving.keyFile}`,
        `--client-ca-file=${pki.ca.certFile}`,
        '--authorization-mode=RBAC',
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${pki.serviceAccount.publicKeyFile}`,
        `--service-account-signing-key-file=${pki.serviceAccount.privateKeyFile}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        // No controller manager runs to create service-account tokens for pods.
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        ...(options.extraArgs ?? []),
      ],
      cwd: dir,
      logFile: join(dir, 'kube-apiserver.log'),
      ready: async () => (await httpGet(`${server}/readyz`, { tls })).status === 200,
      readyTimeoutMs,
      probeIntervalMs: 250,
    });
    // /readyz can pass a moment before the system namespaces exist; tests create objects in `default`.
    while (
      (await httpGet(`${server}/api/v1/namespaces/default`, { tls }).catch(() => undefined))?.status !== 200
    ) {
      if (Date.now() > deadline) throw apiServer.failure('did not create namespace default in time');
      await delay(200);
    }
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, server, pki);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const running = { etcd, apiServer };
    return {
      server,
      kubeconfigPath,
      kubeConfig,
      etcdUrl: etcd.url,
      etcdPid: etcd.pid,
      apiServerPid: apiServer.pid,
      // Located on use, so a missing kubectl fails only the tests that need it.
      kubectl: async (args, runOptions = {}) =>
        runCommand(locateBinary('kubectl'), ['--kubeconfig', kubeconfigPath, ...args], {
          input: runOptions.input,
        }),
      async stop() {
        await running.apiServer.stop();
        await running.etcd.stop();
        await removeTempDir(dir);
      },
    };
  } catch (error) {
    await apiServer?.stop();
    await etcd?.stop();
    await removeTempDir(dir);
    throw error;
  }
}
