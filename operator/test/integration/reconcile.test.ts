// The operator against a real kube-apiserver with the real Argo Rollouts and Prometheus Operator CRDs:
// what it creates, how it follows spec changes, corrects drift, prunes and pauses.
import { expect } from 'chai';
import type { Operator } from '../../src/controller/operator.js';
import type { RequestInfo, ResponseInfo } from '../../src/kube/client.js';
import { EVENT, OWNED_TYPES } from '../../src/kube/resources.js';
import { CONFIG_CHECKSUM_ANNOTATION } from '../../src/specs/meta.js';
import {
  chatCluster,
  conditionOf,
  createNamespace,
  createSecrets,
  eventually,
  getObject,
  newOperator,
  startTestCluster,
  typeOf,
  type MemoryLog,
  type ObjectWithMeta,
  type TestCluster,
} from '../support/test-cluster.js';

type Container = {
  image: string;
  ports: unknown[];
  startupProbe: unknown;
  livenessProbe: unknown;
  readinessProbe: unknown;
  lifecycle: unknown;
  securityContext: unknown;
  env: { name: string }[];
};
const podSpecOf = (deployment: ObjectWithMeta) =>
  (
    deployment.spec as {
      template: { metadata: { annotations: Record<string, string> }; spec: Record<string, unknown> };
    }
  ).template;
const containerOf = (deployment: ObjectWithMeta) =>
  (podSpecOf(deployment).spec.containers as Container[])[0]!;

const EXPECTED_CHILDREN: [string, string][] = [
  ['ConfigMap', 'prod-feature-flags'],
  ...['auth', 'message', 'notification'].flatMap((c): [string, string][] => [
    ['ServiceAccount', `prod-${c}`],
    ['ConfigMap', `prod-${c}-config`],
    ['Deployment', `prod-${c}`],
    ['Rollout', `prod-${c}`],
    ['Service', `prod-${c}`],
    ['PodDisruptionBudget', `prod-${c}`],
    ['HorizontalPodAutoscaler', `prod-${c}`],
    ['NetworkPolicy', `prod-${c}`],
    ['ServiceMonitor', `prod-${c}`],
    ['AnalysisTemplate', `prod-${c}-canary-health`],
  ]),
  ['AnalysisTemplate', 'prod-auth-availability-slo'],
  ['AnalysisTemplate', 'prod-message-delivery-slo'],
  ['AnalysisTemplate', 'prod-message-api-availability-slo'],
  ['AnalysisTemplate', 'prod-websocket-stability-slo'],
  ['AnalysisTemplate', 'prod-notification-success-slo'],
  ['PrometheusRule', 'prod-slo'],
];

/** Write requests the API server counted for the kinds a ChatCluster owns and for ChatClusters. */
async function serverWrites(cluster: TestCluster): Promise<number> {
  const resources = new Set([...OWNED_TYPES.map((t) => t.plural), 'chatclusters']);
  const text = await cluster.admin.getText('/metrics');
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels: Record<string, string> = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (
      ['APPLY', 'PATCH', 'POST', 'PUT', 'DELETE'].includes(labels.verb!) &&
      resources.has(labels.resource!)
    ) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

describe('operator reconciling ChatClusters on a real API server', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let operator: Operator;
  let ns: string;
  let owner: ObjectWithMeta;
  const hooks: {
    before?: (request: RequestInfo) => Promise<void>;
    after?: (response: ResponseInfo) => void;
  } = {};

  const setRolloutStatus = async (name: string, phase: string, message?: string) => {
    // As Argo Rollouts 1.8 writes it: the generations it observed, as strings.
    const rollout = (await getObject(cluster.admin, 'Rollout', ns, name))!;
    const deployment = (await getObject(cluster.admin, 'Deployment', ns, name))!;
    return cluster.admin.applyStatus({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name, namespace: ns },
      status: {
        observedGeneration: String(rollout.metadata.generation),
        workloadObservedGeneration: String(deployment.metadata.generation),
        stableRS: 'aaa111',
        currentPodHash: 'aaa111',
        replicas: 1,
        readyReplicas: 1,
        updatedReplicas: 1,
        availableReplicas: 1,
        phase,
        ...(message ? { message } : {}),
      },
    } as never);
  };

  before(async function () {
    this.timeout(180_000);
    cluster = await startTestCluster({ thirdPartyCrds: true });
    operator = newOperator(cluster, {
      beforeRequest: (request) => hooks.before?.(request),
      afterResponse: (response) => hooks.after?.(response),
    });
    operator.start();
    ns = await createNamespace(cluster.admin);
    await createSecrets(cluster.admin, ns);
    owner = await cluster.admin.create<ObjectWithMeta>(chatCluster(ns, 'prod'));
    await operator.waitForIdle();
  });

  afterEach(function () {
    // On a failure, show what the operator logged above info, to say why.
    if (this.currentTest?.state !== 'failed') return;
    const log = (operator as unknown as { options: { log: MemoryLog } }).options.log;
    for (const line of log.lines.slice(-30)) {
      console.error(`operator ${line.level}: ${line.msg} ${JSON.stringify(line.obj)}`);
    }
  });

  after(async function () {
    this.timeout(60_000);
    await operator?.stop();
    await cluster?.stop();
  });

  it('creates every child, each with a controller owner reference to the ChatCluster', async () => {
    for (const [kind, name] of EXPECTED_CHILDREN) {
      const child = await getObject(cluster.admin, kind, ns, name);
      expect(child, `${kind} ${name}`).to.not.equal(undefined);
      expect(child!.metadata.ownerReferences, `${kind} ${name}`).to.deep.equal([
        {
          apiVersion: 'chatcluster.io/v1alpha1',
          kind: 'ChatCluster',
          name: 'prod',
          uid: owner.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    const labelled = await cluster.admin.list<ObjectWithMeta>(
      typeOf('AnalysisTemplate'),
      ns,
      'chatcluster.io/cluster=prod',
    );
    expect(labelled.items).to.have.length(8);
  });

  it('gives the pods the exact probes, port, preStop, grace period and security context', async () => {
    const deployment = (await getObject(cluster.admin, 'Deployment', ns, 'prod-message'))!;
    const pod = podSpecOf(deployment);
    const container = containerOf(deployment);
    expect(container.image).to.equal('ghcr.io/chatcluster/message:1.4.2');
    expect(container.ports).to.deep.equal([{ name: 'http', containerPort: 8082, protocol: 'TCP' }]);
    expect(container.startupProbe).to.deep.include({
      httpGet: { path: '/health/liveness', port: 'http', scheme: 'HTTP' },
    });
    expect(container.livenessProbe).to.deep.include({
      httpGet: { path: '/health/liveness', port: 'http', scheme: 'HTTP' },
    });
    expect(container.readinessProbe).to.deep.include({
      httpGet: { path: '/health/readiness', port: 'http', scheme: 'HTTP' },
    });
    expect(container.lifecycle).to.deep.equal({ preStop: { sleep: { seconds: 10 } } });
    expect(pod.spec.terminationGracePeriodSeconds).to.equal(90);
    expect(container.securityContext).to.deep.equal({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const rollout = (await getObject(cluster.admin, 'Rollout', ns, 'prod-message'))!;
    expect((rollout.spec as { workloadRef: unknown }).workloadRef).to.deep.equal({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'prod-message',
      scaleDown: 'progressively',
    });
    const service = (await getObject(cluster.admin, 'Service', ns, 'prod-message'))!;
    expect((service.spec as { ports: unknown[] }).ports).to.deep.equal([
      { name: 'http', port: 8082, targetPort: 'http', protocol: 'TCP' },
    ]);
  });

  it('passes the restricted Pod Security admission with its pod template', async () => {
    // The API server's own PodSecurity admission judges a pod made from the template (dry run).
    const restricted = await createNamespace(cluster.admin, {
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
    const template = podSpecOf((await getObject(cluster.admin, 'Deployment', ns, 'prod-auth'))!);
    const pod = (spec: Record<string, unknown>) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'from-template', namespace: restricted },
      spec,
    });
    await cluster.admin.create(pod(template.spec), { dryRun: true });
    // The same pod with a privileged container is refused: the check is live, not vacuous.
    const privileged = structuredClone(template.spec) as {
      containers: { securityContext: Record<string, unknown> }[];
    };
    privileged.containers[0]!.securityContext = { privileged: true };
    const refused = await cluster.admin.create(pod(privileged) as never, { dryRun: true }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(refused?.message).to.match(/violates PodSecurity "restricted/);
  });

  it('follows a spec change: the ConfigMap changes and its checksum rolls only that component', async () => {
    const before = async (component: string) =>
      podSpecOf((await getObject(cluster.admin, 'Deployment', ns, `prod-${component}`))!).metadata
        .annotations[CONFIG_CHECKSUM_ANNOTATION]!;
    const authBefore = await before('auth');
    const messageBefore = await before('message');
    await cluster.admin.mergePatch(typeOf('ChatCluster'), ns, 'prod', {
      spec: { components: { auth: { logLevel: 'debug' } } },
    });
    await eventually('the auth ConfigMap to say LOG_LEVEL=debug', async () => {
      const cm = await getObject(cluster.admin, 'ConfigMap', ns, 'prod-auth-config');
      return (cm?.data as Record<string, string> | undefined)?.LOG_LEVEL === 'debug';
    });
    await eventually(
      'the auth pod template checksum to change',
      async () => (await before('auth')) !== authBefore,
    );
    await operator.waitForIdle();
    expect(await before('message')).to.equal(messageBefore);
  });

  it('flips a feature flag in its ConfigMap without touching any workload', async () => {
    const deployments = await cluster.admin.list<ObjectWithMeta>(typeOf('Deployment'), ns);
    await cluster.admin.mergePatch(typeOf('ChatCluster'), ns, 'prod', {
      spec: { featureFlags: { reactions: true }, featureFlagPercentages: { newComposer: 10 } },
    });
    await eventually('the flag in the feature-flag ConfigMap', async () => {
      const cm = await getObject(cluster.admin, 'ConfigMap', ns, 'prod-feature-flags');
      const text = (cm?.data as Record<string, string> | undefined)?.['flags.json'];
      return text !== undefined && (JSON.parse(text) as Record<string, unknown>).reactions === true;
    });
    await operator.waitForIdle();
    const after = await cluster.admin.list<ObjectWithMeta>(typeOf('Deployment'), ns);
    expect(after.items.map((d) => d.metadata.resourceVersion)).to.deep.equal(
      deployments.items.map((d) => d.metadata.resourceVersion),
    );
  });

  it('recreates a child deleted by hand', async () => {
    const service = (await getObject(cluster.admin, 'Service', ns, 'prod-auth'))!;
    await cluster.admin.delete(typeOf('Service'), ns, 'prod-auth');
    const recreated = await eventually('the Service to be recreated', async () => {
      const s = await getObject(cluster.admin, 'Service', ns, 'prod-auth');
      return s && s.metadata.uid !== service.metadata.uid ? s : undefined;
    });
    expect((recreated.spec as { ports: unknown[] }).ports).to.deep.equal(
      (service.spec as { ports: unknown[] }).ports,
    );
  });

  it('restores a field edited by hand by someone else, and says so in an Event', async () => {
    const name = 'prod-notification';
    const deployment = (await getObject(cluster.admin, 'Deployment', ns, name))!;
    const edited = structuredClone(deployment) as ObjectWithMeta & {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    edited.spec.template.spec.containers[0]!.image = 'example.com/evil:1';
    await cluster.admin.update(edited as never); // an update by another manager, like kubectl edit
    await eventually('the image to be restored', async () => {
      const d = await getObject(cluster.admin, 'Deployment', ns, name);
      return d !== undefined && containerOf(d).image === 'ghcr.io/chatcluster/notification:1.4.2';
    });
    const events = await cluster.admin.list<{
      reason: string;
      message: string;
      involvedObject: { name: string };
    }>(EVENT, ns);
    expect(
      events.items.some((e) => e.reason === 'DriftCorrected' && e.message.includes(`Deployment/${name}`)),
      JSON.stringify(events.items.map((e) => `${e.reason}: ${e.message}`)),
    ).to.equal(true);
  });

  it('takes back a child whose managed-by label was removed', async () => {
    await cluster.admin.mergePatch(typeOf('ConfigMap'), ns, 'prod-message-config', {
      metadata: { labels: { 'app.kubernetes.io/managed-by': null } },
    });
    await eventually('the label to be restored', async () => {
      const cm = await getObject(cluster.admin, 'ConfigMap', ns, 'prod-message-config');
      return cm?.metadata.labels?.['app.kubernetes.io/managed-by'] === 'chatcluster-operator';
    });
  });

  it('writes nothing on a steady resync: no request from the operator, no write on the server', async () => {
    await operator.waitForIdle();
    const reads = () =>
      operator.client.requestCount(['get', 'list', 'apply', 'create', 'update', 'patch', 'delete']);
    const clientBefore = reads();
    const serverBefore = await serverWrites(cluster);
    operator.resyncAll();
    await operator.waitForIdle();
    operator.resyncAll();
    await operator.waitForIdle();
    expect(reads() - clientBefore, 'requests sent by the operator').to.equal(0);
    expect((await serverWrites(cluster)) - serverBefore, 'writes counted by the API server').to.equal(0);
  });

  it('retries a real 409 Conflict on the status write and then writes the status', async () => {
    const statuses: number[] = [];
    let touched = false;
    hooks.before = async (request) => {
      if (request.verb !== 'apply' || !request.path.endsWith('/chatclusters/conflict/status') || touched)
        return;
      touched = true;
      // Someone changes the ChatCluster between the operator's read and its status write.
      await cluster.admin.mergePatch(typeOf('ChatCluster'), ns, 'conflict', {
        metadata: { annotations: { 'example.com/touched': 'yes' } },
      });
    };
    hooks.after = (response) => {
      if (response.path.endsWith('/chatclusters/conflict/status')) statuses.push(response.status);
    };
    try {
      await cluster.admin.create(chatCluster(ns, 'conflict'));
      // Both: the written status can be read a moment before the proxy has passed the 200 on.
      const chat = await eventually('the status written after the conflict, and its 200', async () => {
        const c = await getObject(cluster.admin, 'ChatCluster', ns, 'conflict');
        return conditionOf(c, 'Ready') && statuses.includes(200) ? c : undefined;
      });
      expect(statuses[0]).to.equal(409);
      expect(statuses).to.include(200);
      expect(chat.status?.observedGeneration).to.equal(chat.metadata.generation);
    } finally {
      hooks.before = undefined;
      hooks.after = undefined;
    }
  });

  it('moves the conditions with the Rollouts status, so kubectl wait --for=condition=Ready works', async () => {
    const wait = (condition: string, timeout: string) =>
      cluster.api.kubectl([
        'wait',
        '-n',
        ns,
        `--for=condition=${condition}`,
        `--timeout=${timeout}`,
        'chatcluster/prod',
      ]);
    const notYet = await wait('Ready', '2s');
    expect(notYet.code, notYet.stdout + notYet.stderr).to.not.equal(0);
    const readyBefore = conditionOf(await getObject(cluster.admin, 'ChatCluster', ns, 'prod'), 'Fallback')!;
    // No Argo controller runs here: the test plays it and reports the Rollouts healthy.
    for (const component of ['auth', 'message', 'notification'])
      await setRolloutStatus(`prod-${component}`, 'Healthy');
    const ready = await wait('Ready', '30s');
    expect(ready.code, ready.stderr).to.equal(0);
    let chat = (await getObject(cluster.admin, 'ChatCluster', ns, 'prod'))!;
    expect(chat.status?.phase).to.equal('Ready');
    expect(
      (chat.status?.components as Record<string, { rolloutPhase: string }>).message!.rolloutPhase,
    ).to.equal('Healthy');
    expect(conditionOf(chat, 'Fallback')!.lastTransitionTime).to.equal(readyBefore.lastTransitionTime);

    await setRolloutStatus('prod-message', 'Degraded', 'RolloutAborted: metric "error-rate" assessed Failed');
    const degraded = await wait('Degraded', '30s');
    expect(degraded.code, degraded.stderr).to.equal(0);
    chat = (await getObject(cluster.admin, 'ChatCluster', ns, 'prod'))!;
    // Argo aborted the canary and the stable version serves: Ready stays True, Degraded says why.
    expect(conditionOf(chat, 'Ready')!.status).to.equal('True');
    expect(conditionOf(chat, 'Degraded')!.reason).to.equal('CanaryAborted');
    expect(conditionOf(chat, 'Degraded')!.message).to.include('error-rate');
    await setRolloutStatus('prod-message', 'Healthy');
    expect((await wait('Ready', '30s')).code).to.equal(0);
  });

  it('changes nothing while paused, and catches up when resumed', async () => {
    await cluster.admin.mergePatch(typeOf('ChatCluster'), ns, 'prod', { spec: { paused: true } });
    await eventually(
      'phase Paused',
      async () => (await getObject(cluster.admin, 'ChatCluster', ns, 'prod'))?.status?.phase === 'Paused',
    );
    await cluster.admin.delete(typeOf('PodDisruptionBudget'), ns, 'prod-auth');
    await operator.waitForIdle();
    await new Promise((r) => setTimeout(r, 500));
    expect(await getObject(cluster.admin, 'PodDisruptionBudget', ns, 'prod-auth')).to.equal(undefined);
    await cluster.admin.mergePatch(typeOf('ChatCluster'), ns, 'prod', { spec: { paused: false } });
    await eventually('the PDB to be back', async () =>
      getObject(cluster.admin, 'PodDisruptionBudget', ns, 'prod-auth'),
    );
  });

  it('prunes children no longer desired, and only its own', async () => {
    const stranger = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'prod-stranger',
        namespace: ns,
        labels: { 'app.kubernetes.io/managed-by': 'chatcluster-operator', 'chatcluster.io/cluster': 'prod' },
      },
      data: {},
    };
    await cluster.admin.create(stranger); // labelled like a child but owned by nobody
    await cluster.admin.mergePatch(typeOf('ChatCluster'), ns, 'prod', {
      spec: { ingress: { enabled: true, host: 'chat.example.com' } },
    });
    await eventually('the Ingress', async () => getObject(cluster.admin, 'Ingress', ns, 'prod'));
    await cluster.admin.mergePatch(typeOf('ChatCluster'), ns, 'prod', {
      spec: { ingress: { enabled: false }, networkPolicy: { enabled: false } },
    });
    await eventually('the Ingress and NetworkPolicies to be pruned', async () => {
      const ingress = await getObject(cluster.admin, 'Ingress', ns, 'prod');
      const policies = await cluster.admin.list(typeOf('NetworkPolicy'), ns, 'chatcluster.io/cluster=prod');
      return ingress === undefined && policies.items.length === 0;
    });
    expect(await getObject(cluster.admin, 'ConfigMap', ns, 'prod-stranger')).to.not.equal(undefined);
  });

  it('reports Fallback False and an observedGeneration on every condition', async () => {
    const chat = (await getObject(cluster.admin, 'ChatCluster', ns, 'prod'))!;
    expect(conditionOf(chat, 'Fallback')).to.include({ status: 'False', reason: 'AllFeaturesAvailable' });
    for (const type of ['Ready', 'Progressing', 'Degraded']) {
      expect(conditionOf(chat, type), type).to.include({ observedGeneration: chat.metadata.generation });
    }
    expect(chat.status?.observedGeneration).to.equal(chat.metadata.generation);
  });
});
