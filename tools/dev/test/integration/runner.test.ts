// The development runner against a real kube-apiserver (no kubelet or controllers run there): the
// Deployments the test creates get local replicas of a tiny HTTP server with their pod template's
// environment, ports, volumes and probes, and the runner writes their status as the controllers would.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
import { KubeClient } from '@chatcluster/operator';
import { DevRunner } from '../../src/runner/index.js';

const tinyServer = fileURLToPath(new URL('../support/tiny-server.js', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const TINY_IMAGE = 'example.test/tiny:1';

interface Workload {
  metadata: { generation: number; name: string };
  spec: { replicas?: number };
  status?: {
    observedGeneration?: number | string;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    phase?: string;
    conditions?: { type: string; status: string; reason: string }[];
  };
}

describe('dev runner (real kube-apiserver)', function () {
  this.timeout(240_000);
  let api: KubeApiServer;
  let admin: KubeClient;
  let runner: DevRunner;
  let runDir: string;
  const runnerLog: string[] = [];
  const ns = `runner-${randomBytes(3).toString('hex')}`;

  const get = <T>(kind: 'Deployment' | 'Rollout', name: string): Promise<T> =>
    admin.getPath<T>(
      kind === 'Deployment'
        ? `/apis/apps/v1/namespaces/${ns}/deployments/${name}`
        : `/apis/argoproj.io/v1alpha1/namespaces/${ns}/rollouts/${name}`,
    );
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const result = await api.kubectl(['-n', ns, ...args], input === undefined ? {} : { input });
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const apply = async (object: Record<string, unknown>): Promise<void> => {
    await kubectl(['apply', '--server-side', '--field-manager=test', '-f', '-'], JSON.stringify(object));
  };
  const json = async <T>(url: string): Promise<T> => {
    const res = await httpGet(url);
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
    return JSON.parse(res.body) as T;
  };
  const tiny = (
    name: string,
    replicas: number | undefined,
    extra: { env?: Record<string, unknown>[]; grace?: number; minReadySeconds?: number } = {},
  ) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      minReadySeconds: extra.minReadySeconds ?? 0,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: extra.grace ?? 5,
          containers: [
            {
              name: 'tiny',
              image: TINY_IMAGE,
              ports: [{ name: 'http', containerPort: 8080 }],
              envFrom: [{ configMapRef: { name: 'tiny-config' } }],
              env: [
                { name: 'POSTGRES_URL', valueFrom: { secretKeyRef: { name: 'tiny-secret', key: 'url' } } },
                {
                  name: 'COPIED_LEVEL',
                  valueFrom: { configMapKeyRef: { name: 'tiny-config', key: 'LOG_LEVEL' } },
                },
                { name: 'INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'AUTH_URL', value: `http://tiny.${ns}.svc:80/api` },
                { name: 'FEATURE_FLAGS_FILE', value: '/etc/flags/flags.json' },
                ...(extra.env ?? []),
              ],
              livenessProbe: {
                httpGet: { path: '/health/liveness', port: 'http' },
                periodSeconds: 1,
                failureThreshold: 2,
              },
              readinessProbe: {
                httpGet: { path: '/health/readiness', port: 'http' },
                periodSeconds: 1,
                failureThreshold: 1,
              },
              volumeMounts: [{ name: 'flags', mountPath: '/etc/flags', readOnly: true }],
            },
          ],
          volumes: [{ name: 'flags', configMap: { name: 'tiny-flags' } }],
        },
      },
    },
  });
  const waitForDeployment = (name: string, replicas: number) =>
    eventually(`Deployment ${name} to report ${replicas} ready`, async () => {
      const d = await get<Workload>('Deployment', name);
      const s = d.status ?? {};
      const available = s.conditions?.find((c) => c.type === 'Available')?.status === 'True';
      return s.observedGeneration === d.metadata.generation &&
        s.replicas === replicas &&
        s.readyReplicas === replicas &&
        s.availableReplicas === replicas &&
        s.updatedReplicas === replicas &&
        available
        ? d
        : undefined;
    });

  before(async () => {
    api = await startKubeApiServer();
    await installCrds(api.kubeConfig, [
      `${repoRoot}crds/chatcluster.io_chatclusters.yaml`,
      ...thirdPartyCrdFiles(),
    ]);
    admin = new KubeClient(api.kubeConfig, { fieldManager: 'test' });
    await api.kubectl(['create', 'namespace', ns]);
    runDir = createTempDir('runner');
    runner = await DevRunner.start({
      kubeConfig: api.kubeConfig,
      runDir,
      commands: {
        [TINY_IMAGE.split(':')[0]!]: { command: process.execPath, args: [tinyServer], cwd: repoRoot },
        'ghcr.io/chatcluster/auth': { command: process.execPath, args: [tinyServer], cwd: repoRoot },
        'ghcr.io/chatcluster/message': { command: process.execPath, args: [tinyServer], cwd: repoRoot },
        'ghcr.io/chatcluster/notification': { command: process.execPath, args: [tinyServer], cwd: repoRoot },
      },
      // HOST_PATH: a host path under a mountPath of the pod stays as it is (the overlay is local already).
      extraEnv: { tiny: { LOCAL_OVERLAY: 'yes', HOST_PATH: '/etc/flags/on-this-host' } },
      log: (line) => runnerLog.push(line),
      backoff: { baseMs: 200, maxMs: 2_000, resetAfterMs: 60_000 },
    });
    await apply({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'tiny-config', namespace: ns },
          data: { LOG_LEVEL: 'debug', PORT: '8080' },
        },
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'tiny-flags', namespace: ns },
          data: { 'flags.json': '{"newComposer":false}' },
        },
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'tiny-secret', namespace: ns },
          stringData: { url: 'postgres://u:p@db/x' },
        },
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'tiny', namespace: ns },
          spec: { selector: { app: 'tiny' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
        },
      ],
    });
  });

  after(async () => {
    await runner?.stop();
    await api?.stop();
    if (runDir) await removeTempDir(runDir);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`runner log:\n${runnerLog.slice(-150).join('\n')}`);
  });

  it('starts one local replica per spec.replicas with the pod template environment and writes readiness back', async () => {
    await apply(tiny('tiny', 2));
    await waitForDeployment('tiny', 2);
    const replicas = runner.replicas({ namespace: ns, workload: 'tiny' });
    expect(replicas).to.have.length(2);
    expect(new Set(replicas.map((r) => r.pid)).size).to.equal(2);
    const serviceUrl = runner.serviceUrl(ns, 'tiny')!;
    for (const replica of replicas) {
      const port = replica.ports[8080]!;
      const env = await json<Record<string, string>>(`http://127.0.0.1:${port}/env`);
      expect(env).to.include({
        PORT: String(port),
        POSTGRES_URL: 'postgres://u:p@db/x',
        LOG_LEVEL: 'debug',
        COPIED_LEVEL: 'debug',
        INSTANCE_ID: replica.name,
        HOSTNAME: replica.name,
        AUTH_URL: `${serviceUrl}/api`,
        LOCAL_OVERLAY: 'yes',
        HOST_PATH: '/etc/flags/on-this-host',
      });
      expect(env.FEATURE_FLAGS_FILE).to.match(/volumes\/flags\/flags\.json$/);
      expect(env).to.not.have.property('KUBECONFIG');
    }
    // The Service spreads new connections over both ready replicas.
    const pods = new Set<string>();
    for (let i = 0; i < 6; i++) pods.add((await json<{ pod: string }>(`${serviceUrl}/`)).pod);
    expect([...pods].sort()).to.deep.equal(replicas.map((r) => r.name).sort());
    const deployment = await get<Workload>('Deployment', 'tiny');
    expect(deployment.status?.conditions?.find((c) => c.type === 'Progressing')).to.include({
      status: 'True',
      reason: 'NewReplicaSetAvailable',
    });
  });

  it('keeps the mounted feature-flag file in step with its ConfigMap, without a restart', async () => {
    const url = `${runner.serviceUrl(ns, 'tiny')!}/flags`;
    const pidsBefore = runner.replicas({ namespace: ns, workload: 'tiny' }).map((r) => r.pid);
    expect((await json<{ content: string }>(url)).content).to.equal('{"newComposer":false}');
    await kubectl([
      'patch',
      'configmap',
      'tiny-flags',
      '--type=merge',
      '-p',
      '{"data":{"flags.json":"{\\"newComposer\\":true}"}}',
    ]);
    await eventually('the flag file to change', async () =>
      (await json<{ content: string }>(url)).content === '{"newComposer":true}' ? true : undefined,
    );
    expect(runner.replicas({ namespace: ns, workload: 'tiny' }).map((r) => r.pid)).to.deep.equal(pidsBefore);
  });

  it('scales up and down with kubectl scale; removed replicas get SIGTERM', async () => {
    await kubectl(['scale', 'deployment/tiny', '--replicas=3']);
    await waitForDeployment('tiny', 3);
    expect(runner.replicas({ namespace: ns, workload: 'tiny' })).to.have.length(3);
    const before = runner.replicas({ namespace: ns, workload: 'tiny' });
    await kubectl(['scale', 'deployment/tiny', '--replicas=1']);
    await waitForDeployment('tiny', 1);
    const after = await eventually('two replicas to be gone', () => {
      const now = runner.replicas({ namespace: ns, workload: 'tiny' });
      return now.length === 1 ? now : undefined;
    });
    const stopped = before.filter((r) => r.name !== after[0]!.name);
    expect(stopped).to.have.length(2);
    for (const replica of stopped) {
      expect(readFileSync(replica.logFile, 'utf8')).to.contain('SIGTERM received');
      expect(() => process.kill(replica.pid!, 0)).to.throw();
    }
  });

  it('restarts a replica whose liveness probe fails, and takes it out of the Service while it is down', async () => {
    const [replica] = runner.replicas({ namespace: ns, workload: 'tiny' });
    await json(`http://127.0.0.1:${replica!.ports[8080]}/admin/break-liveness`);
    const restarted = await eventually('the replica to be restarted and ready', () => {
      const now = runner.replicas({ namespace: ns, workload: 'tiny' }).find((r) => r.name === replica!.name);
      return now && now.restarts === 1 && now.ready && now.pid !== replica!.pid ? now : undefined;
    });
    expect(restarted.lastRestartReason).to.match(/^liveness probe failed: GET \/health\/liveness: HTTP 500/);
    expect(runnerLog.some((l) => l.includes(`${replica!.name}: liveness probe failed`))).to.equal(true);
    await waitForDeployment('tiny', 1);
  });

  it('reports a replica failing readiness as not ready and sends it no connections until it recovers', async () => {
    const [replica] = runner.replicas({ namespace: ns, workload: 'tiny' });
    const port = replica!.ports[8080]!;
    await json(`http://127.0.0.1:${port}/admin/unready`);
    await eventually('readyReplicas 0', async () => {
      const d = await get<Workload>('Deployment', 'tiny');
      // Zero counts are omitted from a stored Deployment status (omitempty).
      return (
        (d.status?.readyReplicas ?? 0) === 0 &&
        d.status?.conditions?.find((c) => c.type === 'Available')?.status === 'False'
      );
    });
    expect(runner.serviceEndpoints(ns, 'tiny')).to.deep.equal([]);
    const refused = await httpGet(`${runner.serviceUrl(ns, 'tiny')!}/`).then(
      () => false,
      () => true,
    );
    expect(refused, 'the Service proxy refuses without a ready endpoint').to.equal(true);
    await json(`http://127.0.0.1:${port}/admin/ready`);
    await waitForDeployment('tiny', 1);
    expect(runner.serviceEndpoints(ns, 'tiny')).to.deep.equal([replica!.name]);
  });

  it('rolls replicas to a changed pod template, never below the ready count (maxUnavailable 0)', async () => {
    await kubectl(['scale', 'deployment/tiny', '--replicas=2']);
    await waitForDeployment('tiny', 2);
    const oldHash = runner.replicas({ namespace: ns, workload: 'tiny' })[0]!.hash;
    let lowest = Infinity;
    const sampler = setInterval(() => {
      const ready = runner.replicas({ namespace: ns, workload: 'tiny' }).filter((r) => r.ready).length;
      lowest = Math.min(lowest, ready);
    }, 50);
    try {
      await kubectl(['set', 'env', 'deployment/tiny', 'RELEASE=2']);
      await eventually('every replica on the new template', async () => {
        const replicas = runner.replicas({ namespace: ns, workload: 'tiny' });
        const d = await get<Workload>('Deployment', 'tiny');
        return replicas.length === 2 &&
          replicas.every((r) => r.hash !== oldHash && r.ready) &&
          d.status?.observedGeneration === d.metadata.generation &&
          d.status.updatedReplicas === 2 &&
          d.status.readyReplicas === 2
          ? true
          : undefined;
      });
    } finally {
      clearInterval(sampler);
    }
    expect(lowest).to.equal(2);
    const env = await json<Record<string, string>>(`${runner.serviceUrl(ns, 'tiny')!}/env`);
    expect(env.RELEASE).to.equal('2');
  });

  it('kills a replica that ignores SIGTERM once terminationGracePeriodSeconds have passed', async () => {
    await apply(tiny('stubborn', 1, { grace: 2, env: [{ name: 'IGNORE_SIGTERM', value: '1' }] }));
    await waitForDeployment('stubborn', 1);
    const [replica] = runner.replicas({ namespace: ns, workload: 'stubborn' });
    const started = Date.now();
    await kubectl(['delete', 'deployment/stubborn', '--wait=true']);
    await eventually('the replica to be gone', () =>
      runner.replicas({ namespace: ns, workload: 'stubborn' }).length === 0 ? true : undefined,
    );
    const took = Date.now() - started;
    expect(took).to.be.within(1_900, 8_000);
    expect(readFileSync(replica!.logFile, 'utf8')).to.contain('SIGTERM received');
    expect(
      runnerLog.some((l) => l.includes(`${replica!.name}: still running after 2 s grace period; SIGKILL`)),
    ).to.equal(true);
  });

  it('gives a replica started before the Service it names an address that reaches the Service once it exists', async () => {
    await apply(
      tiny('early', 1, { env: [{ name: 'PEER_URL', value: `http://late.${ns}.svc.cluster.local:80/` }] }),
    );
    await waitForDeployment('early', 1);
    const [early] = runner.replicas({ namespace: ns, workload: 'early' });
    const port = early!.ports[8080]!;
    const env = await json<Record<string, string>>(`http://127.0.0.1:${port}/env`);
    expect(env.PEER_URL).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    // No Service yet: refused, as a name without a Service is unreachable in a cluster.
    expect((await httpGet(`http://127.0.0.1:${port}/peer`)).status).to.equal(502);
    await apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'late', namespace: ns },
      spec: { selector: { app: 'early' }, ports: [{ port: 80, targetPort: 'http' }] },
    });
    const peer = await eventually('the late Service to answer through the reserved address', async () => {
      const res = await httpGet(`http://127.0.0.1:${port}/peer`);
      return res.status === 200 ? (JSON.parse(res.body) as { pod: string }) : undefined;
    });
    expect(peer.pod).to.equal(early!.name);
    expect(`${runner.serviceUrl(ns, 'late', 80)}/`).to.equal(env.PEER_URL);
  });

  it('runs a Rollout through its workloadRef (not the Deployment as well) and reports it Healthy', async () => {
    await apply(tiny('canary', undefined));
    await apply({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'canary', namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'canary' } },
        workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'canary' },
        strategy: { canary: { steps: [{ setWeight: 50 }] } },
      },
    });
    const rollout = await eventually('the Rollout to be Healthy', async () => {
      const r = await get<Workload>('Rollout', 'canary');
      return r.status?.phase === 'Healthy' && r.status.readyReplicas === 2 ? r : undefined;
    });
    expect(rollout.status?.observedGeneration).to.equal(String(rollout.metadata.generation));
    expect(runner.replicas({ namespace: ns, workload: 'canary' })).to.have.length(2);
    // The Deployment it references is not run on its own (Argo scales it down).
    expect(runner.replicas({ namespace: ns }).filter((r) => r.workload === 'canary')).to.have.length(2);
    await kubectl(['scale', 'rollout/canary', '--replicas=1']);
    await eventually('the Rollout scaled to 1', async () => {
      const r = await get<Workload>('Rollout', 'canary');
      return (
        r.status?.phase === 'Healthy' &&
        r.status.replicas === 1 &&
        runner.replicas({ namespace: ns, workload: 'canary' }).length === 1
      );
    });
  });
});
