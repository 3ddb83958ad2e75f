// The operator and the development runner together on a real kube-apiserver with the Argo Rollouts
// CRDs: the operator declares Rollouts (workloadRef to Deployments) for a ChatCluster, the runner runs
// their replicas (a tiny server standing in for each component's image) and writes Rollout status, and
// the ChatCluster goes Ready for real; a spec edit scales, a feature-flag flip reaches the files live.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  eventually,
  createTempDir,
  httpGet,
  installCrds,
  removeTempDir,
  startKubeApiServer,
  thirdPartyCrdFiles,
  type KubeApiServer,
} from '@chatcluster/harness';
import { KubeClient, Operator } from '@chatcluster/operator';
import { DevRunner } from '../../src/runner/index.js';

const tinyServer = fileURLToPath(new URL('../support/tiny-server.js', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));

interface ChatClusterStatus {
  phase?: string;
  conditions?: { type: string; status: string; message: string }[];
  components?: Record<
    string,
    { replicas: number; readyReplicas: number; workload: string; rolloutPhase?: string }
  >;
}

describe('dev runner + operator: a ChatCluster goes Ready (real kube-apiserver)', function () {
  this.timeout(240_000);
  let api: KubeApiServer;
  let admin: KubeClient;
  let runner: DevRunner;
  let operator: Operator;
  let runDir: string;
  const runnerLog: string[] = [];
  const ns = `chat-${randomBytes(3).toString('hex')}`;
  const clusterPath = `/apis/chatcluster.io/v1alpha1/namespaces/${ns}/chatclusters/chat`;
  const status = async () => (await admin.getPath<{ status?: ChatClusterStatus }>(clusterPath)).status ?? {};
  const patchSpec = (spec: Record<string, unknown>) =>
    api.kubectl(['-n', ns, 'patch', 'chatcluster', 'chat', '--type=merge', '-p', JSON.stringify({ spec })]);
  const json = async <T>(url: string): Promise<T> => JSON.parse((await httpGet(url)).body) as T;

  before(async () => {
    api = await startKubeApiServer();
    await installCrds(api.kubeConfig, [
      `${repoRoot}crds/chatcluster.io_chatclusters.yaml`,
      ...thirdPartyCrdFiles(),
    ]);
    admin = new KubeClient(api.kubeConfig, { fieldManager: 'test' });
    await api.kubectl(['create', 'namespace', ns]);
    for (const [name, url] of [
      ['chat-postgres', 'postgres://u:p@127.0.0.1:5432/chat'],
      ['chat-mongodb', 'mongodb://127.0.0.1:27017/chat'],
      ['chat-redis', 'redis://127.0.0.1:6379'],
    ]) {
      await api.kubectl(['-n', ns, 'create', 'secret', 'generic', name!, `--from-literal=url=${url}`]);
    }
    const quiet = () => undefined;
    operator = new Operator({
      kubeConfig: api.kubeConfig,
      identity: 'test-operator',
      leaseNamespace: ns,
      watchNamespace: ns,
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
      leaseDurationSeconds: 4,
      renewDeadlineSeconds: 3,
      retryPeriodSeconds: 1,
    });
    operator.start();
    runDir = createTempDir('runner-chat');
    const tiny = { command: process.execPath, args: [tinyServer], cwd: repoRoot };
    runner = await DevRunner.start({
      kubeConfig: api.kubeConfig,
      namespace: ns,
      runDir,
      commands: { auth: tiny, message: tiny, notification: tiny },
      log: (line) => runnerLog.push(line),
    });
  });

  after(async () => {
    await runner?.stop();
    await operator?.stop();
    await api?.stop();
    if (runDir) await removeTempDir(runDir);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`runner log:\n${runnerLog.slice(-80).join('\n')}`);
  });

  it('runs the Rollouts the operator declared and the ChatCluster reports Ready', async () => {
    const replicas = { auth: 1, message: 2, notification: 1 };
    const components = Object.fromEntries(
      Object.entries(replicas).map(([name, count]) => [
        name,
        { replicas: count, autoscaling: { enabled: false } },
      ]),
    );
    const cluster = {
      apiVersion: 'chatcluster.io/v1alpha1',
      kind: 'ChatCluster',
      metadata: { name: 'chat', namespace: ns },
      spec: {
        image: { version: '0.1.0' },
        dataStores: {
          postgres: { secretRef: { name: 'chat-postgres' } },
          mongodb: { secretRef: { name: 'chat-mongodb' } },
          redis: { secretRef: { name: 'chat-redis' } },
        },
        jwt: { issuer: 'https://chat.test' },
        components,
        featureFlags: { newComposer: false },
        preStopDelaySeconds: 0,
        terminationGracePeriodSeconds: 10,
      },
    };
    const created = await api.kubectl(['apply', '-f', '-'], { input: JSON.stringify(cluster) });
    expect(created.code, created.stderr).to.equal(0);
    const ready = await eventually(
      'the ChatCluster to be Ready',
      async () => {
        const s = await status();
        return s.phase === 'Ready' ? s : undefined;
      },
      90_000,
      500,
    );
    expect(ready.conditions?.find((c) => c.type === 'Ready')).to.include({ status: 'True' });
    for (const [name, count] of Object.entries(replicas)) {
      expect(ready.components?.[name]).to.include({
        workload: 'Rollout',
        rolloutPhase: 'Healthy',
        readyReplicas: count,
      });
      expect(runner.replicas({ namespace: ns, workload: `chat-${name}` })).to.have.length(count);
    }
    // The message replicas got the pod template's environment, made local.
    const [message] = runner.replicas({ namespace: ns, workload: 'chat-message' });
    const env = await json<Record<string, string>>(`http://127.0.0.1:${message!.ports[8082]}/env`);
    expect(env).to.include({
      PORT: String(message!.ports[8082]),
      INSTANCE_ID: message!.name,
      MONGO_URL: 'mongodb://127.0.0.1:27017/chat',
      REDIS_URL: 'redis://127.0.0.1:6379',
      JWT_ISSUER: 'https://chat.test',
      AUTH_URL: runner.serviceUrl(ns, 'chat-auth'),
    });
    expect(env.FEATURE_FLAGS_FILE).to.match(/volumes\/feature-flags\/flags\.json$/);
  });

  it('scales message on a ChatCluster spec edit and flips feature flags without restarting anything', async () => {
    const pidsBefore = runner.replicas({ namespace: ns }).map((r) => r.pid);
    const flip = await patchSpec({
      components: { message: { replicas: 3 } },
      featureFlags: { newComposer: true },
    });
    expect(flip.code, flip.stderr).to.equal(0);
    await eventually(
      'message at 3 ready replicas and the ChatCluster Ready',
      async () => {
        const s = await status();
        return s.phase === 'Ready' && s.components?.message?.readyReplicas === 3 ? s : undefined;
      },
      60_000,
      500,
    );
    expect(runner.replicas({ namespace: ns, workload: 'chat-message' })).to.have.length(3);
    for (const replica of runner.replicas({ namespace: ns })) {
      const flags = await json<{ content: string }>(
        `http://127.0.0.1:${Object.values(replica.ports)[0]}/flags`,
      );
      expect(JSON.parse(flags.content)).to.deep.equal({ newComposer: true });
    }
    // The flag flip restarted nothing: every process from before still runs.
    const pidsAfter = runner.replicas({ namespace: ns }).map((r) => r.pid);
    expect(pidsAfter).to.include.members(pidsBefore);
    const scaledDown = await patchSpec({ components: { message: { replicas: 1 } } });
    expect(scaledDown.code, scaledDown.stderr).to.equal(0);
    await eventually(
      'message at 1 replica',
      async () => {
        const s = await status();
        return s.phase === 'Ready' &&
          s.components?.message?.replicas === 1 &&
          runner.replicas({ namespace: ns, workload: 'chat-message' }).length === 1
          ? s
          : undefined;
      },
      60_000,
      500,
    );
  });
});
