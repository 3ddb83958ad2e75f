// A canary as the operator sees it on a real API server with the Argo Rollouts CRDs. No Argo controller
// runs here: the test plays it, writing the Rollout's status and an AnalysisRun as Argo 1.8 writes them.
// While the canary runs the ChatCluster stays Ready and names the step; when Argo aborts it, the
// operator reads the AnalysisRun, reports Degraded/CanaryAborted with the failing metric, and records
// an Event.
import { expect } from 'chai';
import type { Operator } from '../../src/controller/operator.js';
import { EVENT } from '../../src/kube/resources.js';
import {
  chatCluster,
  conditionOf,
  createNamespace,
  createSecrets,
  eventually,
  getObject,
  newOperator,
  startTestCluster,
  type ObjectWithMeta,
  type TestCluster,
} from '../support/test-cluster.js';

describe('a canary in the ChatCluster status, from the Rollout and its AnalysisRun', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let operator: Operator;
  let ns: string;

  before(async function () {
    this.timeout(180_000);
    cluster = await startTestCluster({ thirdPartyCrds: true });
    operator = newOperator(cluster);
    operator.start();
    ns = await createNamespace(cluster.admin);
    await createSecrets(cluster.admin, ns);
    await cluster.admin.create(chatCluster(ns, 'prod'));
    await eventually('the Rollouts', async () => {
      for (const c of ['auth', 'message', 'notification'])
        if (!(await getObject(cluster.admin, 'Rollout', ns, `prod-${c}`))) return false;
      return true;
    });
  });

  after(async function () {
    this.timeout(60_000);
    await operator?.stop();
    await cluster?.stop();
  });

  /** The Rollout status as Argo Rollouts 1.8 writes it (observedGeneration is a string). */
  async function setRolloutStatus(component: string, status: Record<string, unknown>): Promise<void> {
    const rollout = (await getObject(cluster.admin, 'Rollout', ns, `prod-${component}`))!;
    const deployment = (await getObject(cluster.admin, 'Deployment', ns, `prod-${component}`))!;
    await cluster.admin.applyStatus({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: `prod-${component}`, namespace: ns },
      status: {
        observedGeneration: String(rollout.metadata.generation),
        workloadObservedGeneration: String(deployment.metadata.generation),
        replicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        updatedReplicas: 1,
        phase: 'Healthy',
        stableRS: 'aaa111',
        currentPodHash: 'aaa111',
        ...status,
      },
    } as never);
  }

  const chat = () => getObject(cluster.admin, 'ChatCluster', ns, 'prod');

  it('is Ready with no rollout in progress once Argo reports every Rollout healthy', async () => {
    for (const c of ['auth', 'message', 'notification']) await setRolloutStatus(c, {});
    const ready = await eventually('Ready and Progressing False', async () => {
      const c = await chat();
      return conditionOf(c, 'Ready')?.status === 'True' && conditionOf(c, 'Progressing')?.status === 'False'
        ? c
        : undefined;
    });
    expect(ready.status?.phase).to.equal('Ready');
  });

  it('stays Ready during a canary, Progressing with a reason naming the step', async () => {
    await setRolloutStatus('message', {
      phase: 'Progressing',
      replicas: 2,
      availableReplicas: 2,
      readyReplicas: 2,
      updatedReplicas: 1,
      currentPodHash: 'bbb222',
      currentStepIndex: 1,
      canary: { currentBackgroundAnalysisRunStatus: { name: 'prod-message-bbb222-2', status: 'Running' } },
    });
    const during = await eventually('Progressing CanaryStep1', async () => {
      const c = await chat();
      return conditionOf(c, 'Progressing')?.reason === 'CanaryStep1' ? c : undefined;
    });
    expect(conditionOf(during, 'Ready')).to.include({ status: 'True' });
    expect(conditionOf(during, 'Progressing')).to.include({ status: 'True' });
    expect(conditionOf(during, 'Progressing')!.message).to.include(
      'message: canary step 1/3 (1 of 2 pods on the new version, 5 % declared), analysis Running',
    );
    expect(conditionOf(during, 'Degraded')).to.include({ status: 'False' });
    const wait = await cluster.api.kubectl([
      'wait',
      '-n',
      ns,
      '--for=condition=Ready',
      '--timeout=2s',
      'chatcluster/prod',
    ]);
    expect(wait.code, wait.stdout + wait.stderr).to.equal(0);
  });

  it('reports an aborted canary as Degraded/CanaryAborted with the failing metric read from the AnalysisRun, and records an Event', async () => {
    // The AnalysisRun as Argo leaves it: the metric that failed is named only in its results.
    await cluster.admin.create({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisRun',
      metadata: { name: 'prod-message-bbb222-2', namespace: ns },
      spec: {
        metrics: [
          { name: 'ws-send-failures', provider: { prometheus: { address: 'http://p:9090', query: 'x' } } },
          { name: 'error-rate', provider: { prometheus: { address: 'http://p:9090', query: 'y' } } },
        ],
      },
      status: {
        phase: 'Failed',
        message: 'Metric assessed Failed',
        metricResults: [
          { name: 'ws-send-failures', phase: 'Failed', count: 2, failed: 2 },
          { name: 'error-rate', phase: 'Running', count: 2, successful: 2 },
        ],
      },
    } as never);
    await setRolloutStatus('message', {
      abort: true,
      phase: 'Degraded',
      message: 'RolloutAborted: Rollout aborted update to revision 2',
      replicas: 1,
      availableReplicas: 1,
      readyReplicas: 1,
      updatedReplicas: 0,
      currentPodHash: 'bbb222',
      currentStepIndex: 0,
      canary: { currentBackgroundAnalysisRunStatus: { name: 'prod-message-bbb222-2', status: 'Failed' } },
    });
    const aborted = await eventually('Degraded CanaryAborted', async () => {
      const c = await chat();
      return conditionOf(c, 'Degraded')?.reason === 'CanaryAborted' ? c : undefined;
    });
    expect(conditionOf(aborted, 'Degraded')).to.include({ status: 'True' });
    expect(conditionOf(aborted, 'Degraded')!.message).to.equal(
      'message: canary aborted, failing metric ws-send-failures (AnalysisRun prod-message-bbb222-2): ' +
        'RolloutAborted: Rollout aborted update to revision 2; the stable version serves 1/1',
    );
    expect(aborted.status?.phase).to.equal('Degraded');
    // The stable version serves: Ready stays, no rollout is in progress.
    expect(conditionOf(aborted, 'Ready')).to.include({ status: 'True' });
    expect(conditionOf(aborted, 'Progressing')).to.include({ status: 'False' });
    const event = await eventually('the CanaryAborted Event', async () => {
      const events = await cluster.admin.list<ObjectWithMeta>(EVENT, ns);
      return events.items.find(
        (e) =>
          e.reason === 'CanaryAborted' &&
          (e.involvedObject as { kind: string; name: string }).kind === 'ChatCluster' &&
          (e.involvedObject as { kind: string; name: string }).name === 'prod',
      );
    });
    expect(event.type).to.equal('Warning');
    expect(event.message).to.include('failing metric ws-send-failures');
  });

  it('is Progressing, not judged by a stale status, while Argo has not observed the Rollout generation', async () => {
    // Argo promoted by hand (kubectl argo rollouts retry/promote ends the abort); then the spec changes
    // and the status written still describes the generation before.
    await setRolloutStatus('message', {});
    await eventually('Degraded False', async () => conditionOf(await chat(), 'Degraded')?.status === 'False');
    const rollout = (await getObject(cluster.admin, 'Rollout', ns, 'prod-message'))!;
    await setRolloutStatus('message', { observedGeneration: String(rollout.metadata.generation! - 1) });
    const stale = await eventually('Progressing for the unobserved generation', async () => {
      const c = await chat();
      return conditionOf(c, 'Progressing')?.status === 'True' ? c : undefined;
    });
    expect(conditionOf(stale, 'Progressing')!.message).to.include(
      `message: Rollout generation ${rollout.metadata.generation} not yet observed by Argo Rollouts`,
    );
    expect(stale.status?.phase).to.equal('Progressing');
  });
});
