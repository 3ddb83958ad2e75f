// The local control plane of `make dev`: etcd + kube-apiserver with the third-party and ChatCluster
// CRDs, the operator running against it, and the sample ChatCluster with Secrets that point at the
// local data stores.
import { fileURLToPath } from 'node:url';
import {
  installCrds,
  startKubeApiServer,
  thirdPartyCrdFiles,
  type KubeApiServer,
} from '@chatcluster/harness';
import { startLocalService, type LocalService } from './local-service.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const chatClusterCrd = `${repoRoot}crds/chatcluster.io_chatclusters.yaml`;
const sampleChatCluster = `${repoRoot}examples/chatcluster-minimal.yaml`;

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

export async function startControlPlane(
  stores: DataStoreUrls,
  progress: (line: string) => void,
): Promise<LocalControlPlane> {
  const kube = await startKubeApiServer();
  try {
    const crds = await installCrds(kube.kubeConfig, [...thirdPartyCrdFiles(), chatClusterCrd]);
    progress(`installed ${crds.length} CRDs`);
    for (const [name, url] of Object.entries(stores)) {
      const secret = await kubectl(kube, [
        'create',
        'secret',
        'generic',
        `chat-${name}`,
        `--from-literal=url=${url}`,
        '--dry-run=client',
        '-o',
        'yaml',
      ]);
      await kubectl(kube, ['apply', '-f', '-'], secret);
    }
    progress('starting the operator');
    const operator = await startLocalService('operator', { KUBECONFIG: kube.kubeconfigPath });
    await kubectl(kube, ['apply', '-f', sampleChatCluster]);
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
