// Without Argo Rollouts and the Prometheus Operator the operator falls back to Deployments with a
// rolling update and skips the monitoring objects, says so, keeps running, and upgrades by itself
// once the CRDs are installed.
import { installCrds, thirdPartyCrdFiles } from '@chatcluster/harness';
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
  type TestCluster,
} from '../support/test-cluster.js';

describe('operator without the optional CRDs', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let operator: Operator;
  let ns: string;

  before(async function () {
    this.timeout(180_000);
    cluster = await startTestCluster({ thirdPartyCrds: false });
    operator = newOperator(cluster, { discoveryIntervalMs: 500 });
    operator.start();
    ns = await createNamespace(cluster.admin);
    await createSecrets(cluster.admin, ns);
    await cluster.admin.create(
      chatCluster(ns, 'lean', {
        components: { notification: { replicas: 2, autoscaling: { enabled: false } } },
        // Weights 2 fixed pods can honour (the CRD refuses 5 % for them: one canary pod is a third).
        rollout: { canary: { steps: [{ setWeight: 50, pauseSeconds: 600 }, { setWeight: 100 }] } },
      }),
    );
    await operator.waitForIdle();
  });

  after(async function () {
    this.timeout(60_000);
    await operator?.stop();
    await cluster?.stop();
  });

  it('runs each component as a Deployment with a rolling update and owns its replicas', async () => {
    const deployment = (await getObject(cluster.admin, 'Deployment', ns, 'lean-notification'))!;
    const spec = deployment.spec as { replicas: number; strategy: unknown };
    expect(spec.replicas).to.equal(2);
    expect(spec.strategy).to.deep.equal({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
    });
    const hpa = (await getObject(cluster.admin, 'HorizontalPodAutoscaler', ns, 'lean-message'))!;
    expect((hpa.spec as { scaleTargetRef: unknown }).scaleTargetRef).to.deep.equal({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'lean-message',
    });
  });

  it('reports the fallback in a condition and a Warning Event, and stays healthy', async () => {
    const chat = (await getObject(cluster.admin, 'ChatCluster', ns, 'lean'))!;
    const fallback = conditionOf(chat, 'Fallback')!;
    expect(fallback).to.include({ status: 'True', reason: 'ArgoRolloutsAndPrometheusOperatorMissing' });
    expect(fallback.message).to.include('Argo Rollouts is not installed');
    expect(fallback.message).to.include('the Prometheus Operator is not installed');
    const events = await cluster.admin.list<{ reason: string; type: string }>(EVENT, ns);
    expect(events.items.some((e) => e.reason === 'FallbackActive' && e.type === 'Warning')).to.equal(true);
    expect(operator.isLeader).to.equal(true);
    expect(operator.ready).to.equal(true);
  });

  it('takes up Rollouts and monitoring once the CRDs are installed', async function () {
    this.timeout(120_000);
    await installCrds(cluster.api.kubeConfig, thirdPartyCrdFiles());
    await eventually(
      'the Rollouts',
      async () => getObject(cluster.admin, 'Rollout', ns, 'lean-message'),
      60_000,
    );
    await eventually('the PrometheusRule', async () =>
      getObject(cluster.admin, 'PrometheusRule', ns, 'lean-slo'),
    );
    await eventually('Fallback False', async () => {
      const chat = await getObject(cluster.admin, 'ChatCluster', ns, 'lean');
      return conditionOf(chat, 'Fallback')?.status === 'False';
    });
    const hpa = (await getObject(cluster.admin, 'HorizontalPodAutoscaler', ns, 'lean-message'))!;
    expect((hpa.spec as { scaleTargetRef: { kind: string } }).scaleTargetRef.kind).to.equal('Rollout');
    // Under the Rollout the Deployment no longer claims a replica count the Rollout manages.
    const deployment = (await getObject(cluster.admin, 'Deployment', ns, 'lean-notification'))!;
    const managers = (
      deployment.metadata as { managedFields?: { manager: string; fieldsV1?: { 'f:spec'?: object } }[] }
    ).managedFields!.filter((m) => m.manager === 'chatcluster-operator');
    expect(managers.some((m) => m.fieldsV1?.['f:spec'] && 'f:replicas' in m.fieldsV1['f:spec'])).to.equal(
      false,
    );
  });
});
