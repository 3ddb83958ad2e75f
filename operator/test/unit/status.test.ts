import { expect } from 'chai';
import { computeStatus, statusChanged, type Workload } from '../../src/controller/status.js';
import type { ChatClusterStatus, ComponentName } from '../../src/api/types.js';
import { ALL_CAPABILITIES } from '../../src/specs/capabilities.js';
import { sampleCluster } from '../support/sample-cluster.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:05:00Z';

const deploymentStatus = (
  desired: number,
  ready: number,
  extra: Partial<NonNullable<Workload['status']>> = {},
): Workload => ({
  metadata: { generation: 2 },
  spec: { replicas: desired },
  status: {
    observedGeneration: 2,
    replicas: desired,
    readyReplicas: ready,
    updatedReplicas: desired,
    ...extra,
  },
});
const rolloutStatus = (desired: number, ready: number, phase: string): Workload => ({
  metadata: { generation: 1 },
  spec: { replicas: desired },
  status: { replicas: desired, readyReplicas: ready, updatedReplicas: desired, phase },
});
const all = (w: Workload): Record<ComponentName, Workload> => ({ auth: w, message: w, notification: w });
const noOptional = { argoRollouts: false, prometheusOperator: false };
const cond = (s: ChatClusterStatus, type: string) => s.conditions!.find((c) => c.type === type)!;

describe('computeStatus', () => {
  it('is Ready when every Deployment has all replicas ready and updated', () => {
    const cluster = sampleCluster({}, { generation: 3 });
    const s = computeStatus({ cluster, caps: noOptional, workloads: all(deploymentStatus(2, 2)), now: T0 });
    expect(s.phase).to.equal('Ready');
    expect(cond(s, 'Ready')).to.include({
      status: 'True',
      reason: 'AllComponentsReady',
      observedGeneration: 3,
    });
    expect(cond(s, 'Progressing').status).to.equal('False');
    expect(cond(s, 'Degraded').status).to.equal('False');
    expect(s.observedGeneration).to.equal(3);
    expect(s.components!.message).to.deep.equal({
      replicas: 2,
      readyReplicas: 2,
      updatedReplicas: 2,
      workload: 'Deployment',
    });
  });

  it('is Progressing and not Ready while pods come up', () => {
    const s = computeStatus({
      cluster: sampleCluster(),
      caps: noOptional,
      workloads: { ...all(deploymentStatus(2, 2)), message: deploymentStatus(3, 1) },
      now: T0,
    });
    expect(s.phase).to.equal('Progressing');
    expect(cond(s, 'Ready')).to.include({ status: 'False', reason: 'ComponentsNotReady' });
    expect(cond(s, 'Ready').message).to.equal('message: 3/3 updated, 1/3 ready');
    expect(cond(s, 'Progressing')).to.include({ status: 'True', reason: 'RolloutInProgress' });
  });

  it('is not Ready while a Deployment has not observed its latest generation', () => {
    const stale = deploymentStatus(2, 2, { observedGeneration: 1 });
    const s = computeStatus({ cluster: sampleCluster(), caps: noOptional, workloads: all(stale), now: T0 });
    expect(cond(s, 'Ready').status).to.equal('False');
  });

  it('is Degraded when a Deployment exceeded its progress deadline', () => {
    const stuck = deploymentStatus(2, 0, {
      conditions: [
        { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'timed out' },
      ],
    });
    const s = computeStatus({
      cluster: sampleCluster(),
      caps: noOptional,
      workloads: { ...all(deploymentStatus(2, 2)), auth: stuck },
      now: T0,
    });
    expect(s.phase).to.equal('Degraded');
    expect(cond(s, 'Degraded')).to.include({ status: 'True', reason: 'ComponentDegraded' });
    expect(cond(s, 'Degraded').message).to.include('ProgressDeadlineExceeded');
  });

  it('follows the Rollout phase under a canary and reports it per component', () => {
    const healthy = computeStatus({
      cluster: sampleCluster(),
      caps: ALL_CAPABILITIES,
      workloads: all(rolloutStatus(3, 3, 'Healthy')),
      now: T0,
    });
    expect(healthy.phase).to.equal('Ready');
    expect(healthy.components!.auth).to.include({ workload: 'Rollout', rolloutPhase: 'Healthy' });
    const paused = computeStatus({
      cluster: sampleCluster(),
      caps: ALL_CAPABILITIES,
      workloads: { ...all(rolloutStatus(3, 3, 'Healthy')), message: rolloutStatus(3, 3, 'Paused') },
      now: T0,
    });
    expect(cond(paused, 'Ready').status).to.equal('False');
    expect(cond(paused, 'Progressing').status).to.equal('True');
    const aborted = computeStatus({
      cluster: sampleCluster(),
      caps: ALL_CAPABILITIES,
      workloads: { ...all(rolloutStatus(3, 3, 'Healthy')), message: rolloutStatus(3, 3, 'Degraded') },
      now: T0,
    });
    expect(aborted.phase).to.equal('Degraded');
  });

  it('reports a failed apply as Degraded with its message', () => {
    const s = computeStatus({
      cluster: sampleCluster(),
      caps: noOptional,
      workloads: all(deploymentStatus(2, 2)),
      reconcileError: 'apply Service prod-auth: forbidden',
      now: T0,
    });
    expect(cond(s, 'Degraded')).to.include({
      status: 'True',
      reason: 'ReconcileFailed',
      message: 'apply Service prod-auth: forbidden',
    });
  });

  it('says which fallback is active, and only for what the spec asks for', () => {
    const s = computeStatus({ cluster: sampleCluster(), caps: noOptional, workloads: {}, now: T0 });
    expect(cond(s, 'Fallback')).to.include({
      status: 'True',
      reason: 'ArgoRolloutsAndPrometheusOperatorMissing',
    });
    expect(s.phase).to.equal('Pending');
    const rolling = computeStatus({
      cluster: sampleCluster({ rollout: { strategy: 'RollingUpdate' }, monitoring: { enabled: false } }),
      caps: noOptional,
      workloads: {},
      now: T0,
    });
    expect(cond(rolling, 'Fallback')).to.include({ status: 'False', reason: 'AllFeaturesAvailable' });
  });

  it('reports Paused and no progress while paused', () => {
    const s = computeStatus({
      cluster: sampleCluster({ paused: true }),
      caps: noOptional,
      workloads: all(deploymentStatus(2, 2)),
      now: T0,
    });
    expect(s.phase).to.equal('Paused');
    expect(cond(s, 'Progressing')).to.include({ status: 'False', reason: 'ReconciliationPaused' });
  });

  it('keeps lastTransitionTime while a condition status stays, and moves it when the status flips', () => {
    const cluster = sampleCluster();
    const first = computeStatus({
      cluster,
      caps: noOptional,
      workloads: all(deploymentStatus(2, 1)),
      now: T0,
    });
    cluster.status = first;
    const same = computeStatus({
      cluster,
      caps: noOptional,
      workloads: all(deploymentStatus(2, 1)),
      now: T1,
    });
    expect(cond(same, 'Ready').lastTransitionTime).to.equal(T0);
    expect(statusChanged(first, same)).to.equal(false);
    const ready = computeStatus({
      cluster,
      caps: noOptional,
      workloads: all(deploymentStatus(2, 2)),
      now: T1,
    });
    expect(cond(ready, 'Ready').lastTransitionTime).to.equal(T1);
    expect(cond(ready, 'Fallback').lastTransitionTime).to.equal(T0);
    expect(statusChanged(first, ready)).to.equal(true);
  });

  it('does not count a different order of conditions as a change', () => {
    const s = computeStatus({ cluster: sampleCluster(), caps: noOptional, workloads: {}, now: T0 });
    expect(statusChanged({ ...s, conditions: [...s.conditions!].reverse() }, s)).to.equal(false);
    expect(statusChanged(undefined, s)).to.equal(true);
  });
});
