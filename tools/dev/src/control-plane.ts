// The local control plane of `make dev`: etcd + kube-apiserver with the third-party and ChatCluster
// CRDs, the operator running against it, and the dev ChatCluster (dev-cluster.ts) with Secrets that
// point at the local data stores and the local FCM/SendGrid sink.
import { fileURLToPath } from 'node:url';
import {
  installCrds,
  startKubeApiServer,
  thirdPartyCrdFiles,
  type KubeApiServer,
} from '@chatcluster/harness';
import { devChatCluster } from './dev-cluster.js';
import { startLocalService, type LocalService } from './local-service.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const chatClusterCrd = `${repoRoot}crds/chatcluster.io_chatclusters.yaml`;

export interface DataStoreUrls {
  postgres: string;
  mongodb: string;
  redis: string;
}

export interface LocalControlPlane {
  kube: KubeApiServer;
  operator: LocalService;
  stop(): Promise<void>;
}

async function kubectl(kube: KubeApiServer, args: string[], input?: string): Promise<string> {
  const result = await kube.kubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

/** A Secret as YAML, for `kubectl apply` (so a restart of `make dev` on a kept server does not fail). */
async function secretYaml(kube: KubeApiServer, name: string, data: Record<string, string>): Promise<string> {
  const literals = Object.entries(data).map(([key, value]) => `--from-literal=${key}=${value}`);
  return kubectl(kube, ['create', 'secret', 'generic', name, ...literals, '--dry-run=client', '-o', 'yaml']);
}

export async function startControlPlane(
  stores: DataStoreUrls,
  progress: (line: string) => void,
  options: { providerSinkUrl?: string; logDir?: string } = {},
): Promise<LocalControlPlane> {
  const kube = await startKubeApiServer();
  try {
    const crds = await installCrds(kube.kubeConfig, [...thirdPartyCrdFiles(), chatClusterCrd]);
    progress(`installed ${crds.length} CRDs`);
    for (const name of ['postgres', 'mongodb', 'redis'] as const) {
      await kubectl(
        kube,
        ['apply', '-f', '-'],
        await secretYaml(kube, `chat-${name}`, { url: stores[name] }),
      );
    }
    if (options.providerSinkUrl) {
      const fcm = await secretYaml(kube, 'chat-fcm', {
        projectId: 'chatcluster-dev',
        accessToken: 'dev-token',
      });
      await kubectl(kube, ['apply', '-f', '-'], fcm);
      await kubectl(
        kube,
        ['apply', '-f', '-'],
        await secretYaml(kube, 'chat-sendgrid', { apiKey: 'dev-key' }),
      );
    }
    progress('starting the operator');
    const operator = await startLocalService('operator', { KUBECONFIG: kube.kubeconfigPath }, options.logDir);
    const cluster = devChatCluster(
      options.providerSinkUrl ? { providerSinkUrl: options.providerSinkUrl } : {},
    );
    await kubectl(kube, ['apply', '-f', '-'], JSON.stringify(cluster));
    await kubectl(kube, [
      'wait',
      'chatcluster/chat',
      '--for=jsonpath={.status.observedGeneration}=1',
      '--timeout=60s',
    ]);
    progress('the operator reconciled the sample ChatCluster `chat`');
    return {
      kube,
      operator,
      stop: async () => {
        await operator.stop();
        await kube.stop();
      },
    };
  } catch (error) {
    await kube.stop();
    throw error;
  }
}
