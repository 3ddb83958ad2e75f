// The Helm chart and the examples against the real API server: lint clean, every rendered object
// accepted by a server-side dry run, values checked by the schema, the chart's RBAC enough for the
// operator (run with the chart's ServiceAccount token) and nothing more, and the examples apply.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { helm } from '@chatcluster/harness';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import yaml from 'js-yaml';
import type { Operator } from '../../src/controller/operator.js';
import { KubeClient } from '../../src/kube/client.js';
import {
  conditionOf,
  createNamespace,
  createSecrets,
  eventually,
  getObject,
  newOperator,
  repoRoot,
  startTestCluster,
  type ObjectWithMeta,
  type TestCluster,
} from '../support/test-cluster.js';

const chartDir = join(repoRoot, 'charts', 'chatcluster-operator');
const examplesDir = join(repoRoot, 'examples');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

async function render(args: string[]): Promise<Manifest[]> {
  const result = await helm(['template', 'chat-operator', chartDir, ...args]);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return (yaml.loadAll(result.stdout) as (Manifest | null)[]).filter((d): d is Manifest => d !== null);
}

describe('Helm chart and examples on a real API server', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  const operators: Operator[] = [];

  before(async function () {
    this.timeout(180_000);
    cluster = await startTestCluster({ thirdPartyCrds: true });
  });

  after(async function () {
    this.timeout(60_000);
    for (const operator of operators) await operator.stop();
    await cluster?.stop();
  });

  it('passes helm lint --strict', async () => {
    const result = await helm(['lint', '--strict', chartDir]);
    expect(result.code, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.not.match(/\[(WARNING|ERROR)\]/);
  });

  for (const [what, args] of [
    ['default values', []],
    ['one watched namespace', ['--set', 'watchNamespace=chat-only']],
    ['ServiceMonitor and PrometheusRule', ['--set', 'metrics.serviceMonitor.enabled=true']],
  ] as const) {
    it(`renders objects the API server accepts in a server-side dry run (${what})`, async () => {
      const releaseNs = await createNamespace(cluster.admin);
      await cluster.admin.apply(
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'chat-only' } },
        { force: true },
      );
      const manifests = await render(['--namespace', releaseNs, '--include-crds', ...args]);
      expect(manifests.map((m) => m.kind)).to.include.members([
        'CustomResourceDefinition',
        'ServiceAccount',
        'Deployment',
        'RoleBinding',
        'Service',
        'PodDisruptionBudget',
      ]);
      if (args.some((arg) => arg.startsWith('metrics.serviceMonitor.enabled=true')))
        expect(manifests.map((m) => m.kind)).to.include.members(['ServiceMonitor', 'PrometheusRule']);
      for (const manifest of manifests) {
        await cluster.admin.apply(manifest, { force: true, dryRun: true }).catch((err: Error) => {
          throw new Error(`${manifest.kind} ${manifest.metadata.name} refused: ${err.message}`);
        });
      }
    });
  }

  it('refuses values the schema does not allow, naming the value', async () => {
    const result = await helm([
      'template',
      'x',
      chartDir,
      '--set',
      'replicaCount=0',
      '--set',
      'logLevel=loud',
    ]);
    expect(result.code).to.not.equal(0);
    expect(result.stderr).to.include('/replicaCount');
    expect(result.stderr).to.include('/logLevel');
  });

  it('grants the operator exactly enough: it reconciles with the chart ServiceAccount, and cannot list Secrets', async () => {
    const releaseNs = await createNamespace(cluster.admin);
    for (const manifest of await render(['--namespace', releaseNs]))
      await cluster.admin.apply(manifest, { force: true });
    // A token of the chart's ServiceAccount, as the pod would get it.
    const core = cluster.api.kubeConfig.makeApiClient(CoreV1Api);
    const token = await core.createNamespacedServiceAccountToken({
      name: 'chat-operator-chatcluster-operator',
      namespace: releaseNs,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [], expirationSeconds: 3600 },
      },
    });
    const asOperator = new KubeConfig();
    const server = cluster.api.kubeConfig.getCurrentCluster()!;
    asOperator.loadFromOptions({
      clusters: [{ name: 'test', server: server.server, caData: server.caData }],
      users: [{ name: 'operator', token: token.status!.token }],
      contexts: [{ name: 'operator', cluster: 'test', user: 'operator' }],
      currentContext: 'operator',
    });
    const operator = newOperator(cluster, {
      kubeConfig: asOperator,
      leaseNamespace: releaseNs,
      leaseName: 'chatcluster-operator',
    });
    operators.push(operator);
    operator.start();
    const ns = await createNamespace(cluster.admin);
    await createSecrets(cluster.admin, ns);
    const example = yaml.load(
      readFileSync(join(examplesDir, 'chatcluster-production.yaml'), 'utf8'),
    ) as ObjectWithMeta;
    await cluster.admin.create({ ...example, metadata: { ...example.metadata, namespace: ns } } as never);
    const chat = await eventually('the status written with the chart RBAC', async () => {
      const c = await getObject(cluster.admin, 'ChatCluster', ns, 'chat-prod');
      return conditionOf(c, 'Ready') ? c : undefined;
    });
    expect(conditionOf(chat, 'Degraded'), JSON.stringify(chat.status)).to.include({ status: 'False' });
    for (const [kind, name] of [
      ['Rollout', 'chat-prod-message'],
      ['Ingress', 'chat-prod'],
      ['PrometheusRule', 'chat-prod-slo'],
      ['HorizontalPodAutoscaler', 'chat-prod-auth'],
    ]) {
      expect(await getObject(cluster.admin, kind!, ns, name!), `${kind} ${name}`).to.not.equal(undefined);
    }
    // A Secret the pods read is read by name (its digest rolls the pods); Secrets cannot be enumerated.
    const operatorClient = new KubeClient(asOperator, { fieldManager: 'probe' });
    const attempt = (path: string) =>
      operatorClient.getPath(path).then(
        () => 'allowed',
        (err: Error) => err.message,
      );
    expect(await attempt(`/api/v1/namespaces/${ns}/secrets/chat-postgres`)).to.equal('allowed');
    expect(await attempt(`/api/v1/namespaces/${ns}/secrets`)).to.match(/forbidden/);
    expect(await attempt(`/api/v1/secrets`)).to.match(/forbidden/);
  });

  it('applies every example cleanly, and the operator reconciles them without a failure', async () => {
    const operator = newOperator(cluster, { leaseName: 'examples' });
    operators.push(operator);
    operator.start();
    const ns = await createNamespace(cluster.admin);
    const files = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml'));
    expect(files).to.include.members(['secrets-local.yaml', 'chatcluster-minimal.yaml']);
    const clusters: string[] = [];
    for (const file of files.sort((a, b) =>
      a.startsWith('secrets') ? -1 : b.startsWith('secrets') ? 1 : 0,
    )) {
      for (const doc of yaml.loadAll(readFileSync(join(examplesDir, file), 'utf8')) as Manifest[]) {
        await cluster.admin.apply({ ...doc, metadata: { ...doc.metadata, namespace: ns } }, { force: true });
        if (doc.kind === 'ChatCluster') clusters.push(doc.metadata.name);
      }
    }
    expect(clusters.length).to.be.greaterThanOrEqual(3);
    for (const name of clusters) {
      const chat = await eventually(`the status of ${name}`, async () => {
        const c = await getObject(cluster.admin, 'ChatCluster', ns, name);
        return conditionOf(c, 'Ready') ? c : undefined;
      });
      expect(conditionOf(chat, 'Degraded'), `${name}: ${JSON.stringify(chat.status)}`).to.include({
        status: 'False',
      });
      expect(await getObject(cluster.admin, 'Deployment', ns, `${name}-message`), name).to.not.equal(
        undefined,
      );
    }
  });
});
