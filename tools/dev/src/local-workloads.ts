// The workloads of `make dev`: the development runner (runner/) runs what the operator declared for
// the dev ChatCluster as local processes, and this waits, showing progress, until the ChatCluster
// reports Ready. A component without a local build stops `make dev` with the reason.
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { tailOfFile, type KubeApiServer } from '@chatcluster/harness';
import { DevRunner, RUNNER_NOTICE } from './runner/index.js';

const NAMESPACE = 'default';
/** The chat page the message service serves when WEB_DIR is set (only on one machine: in a cluster
 * the ingress serves it). */
const chatPageDir = fileURLToPath(new URL('../../../../apps/message/web', import.meta.url));
const CLUSTER = 'chat';

export interface LocalWorkloads {
  runner: DevRunner;
  endpoints: [string, string][];
  stop(): Promise<void>;
}

interface ClusterStatus {
  phase?: string;
  conditions?: { type: string; status: string; message?: string }[];
}

async function clusterStatus(kube: KubeApiServer): Promise<ClusterStatus> {
  const result = await kube.kubectl(['-n', NAMESPACE, 'get', 'chatcluster', CLUSTER, '-o', 'json']);
  if (result.code !== 0) throw new Error(`kubectl get chatcluster ${CLUSTER}: ${result.stderr.trim()}`);
  return (JSON.parse(result.stdout) as { status?: ClusterStatus }).status ?? {};
}

export async function startLocalWorkloads(
  kube: KubeApiServer,
  logDir: string,
  progress: (line: string) => void,
  readyTimeoutMs = 300_000,
): Promise<LocalWorkloads> {
  mkdirSync(logDir, { recursive: true });
  const runnerLog = join(logDir, 'runner.log');
  progress(RUNNER_NOTICE);
  const runner = await DevRunner.start({
    kubeConfig: kube.kubeConfig,
    namespace: NAMESPACE,
    runDir: join(logDir, 'pods'),
    ...(existsSync(chatPageDir) ? { extraEnv: { message: { WEB_DIR: chatPageDir } } } : {}),
    log: (line) => appendFileSync(runnerLog, `${new Date().toISOString()} ${line}\n`),
  });
  try {
    const deadline = Date.now() + readyTimeoutMs;
    let shown = '';
    for (;;) {
      const unrunnable = runner.unrunnable();
      if (unrunnable.length > 0) {
        throw new Error(unrunnable.map((u) => `${u.workload}: ${u.reason}`).join('; '));
      }
      const status = await clusterStatus(kube);
      const ready = status.conditions?.find((c) => c.type === 'Ready');
      if (status.phase === 'Ready' && ready?.status === 'True') break;
      const line = `ChatCluster ${CLUSTER}: ${status.phase ?? 'Pending'}${ready?.message ? ` (${ready.message})` : ''}`;
      if (line !== shown) progress((shown = line));
      if (Date.now() > deadline) {
        const stuck = runner
          .replicas()
          .filter((r) => !r.ready)
          .map(
            (r) =>
              `${r.name}: ${r.lastProblem ?? r.phase}; last lines of ${r.logFile}:\n${tailOfFile(r.logFile, 10)}`,
          );
        throw new Error(
          `the ChatCluster was not Ready within ${readyTimeoutMs / 1000} s: ${line}\n${stuck.join('\n')}`,
        );
      }
      await delay(1_000);
    }
    const replicas = runner.replicas();
    progress(`ChatCluster ${CLUSTER} is Ready: ${replicas.length} local replicas`);
    const url = (service: string) => runner.serviceUrl(NAMESPACE, `${CLUSTER}-${service}`) ?? '(no Service)';
    return {
      runner,
      endpoints: [
        ...(existsSync(chatPageDir) ? ([['chat page', `${url('message')}/`]] as [string, string][]) : []),
        ['auth API', `${url('auth')}/api/v1`],
        ['message API', `${url('message')}/api/v1`],
        ['notification API', `${url('notification')}/api/v1`],
        ['runner log', runnerLog],
        ['replica logs', join(logDir, 'pods', '<replica>.log')],
      ],
      stop: () => runner.stop(),
    };
  } catch (error) {
    await runner.stop();
    throw error;
  }
}
