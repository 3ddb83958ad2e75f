import { expect } from 'chai';
import { countReplicas, deploymentStatus, rolloutStatus, type Condition } from '../../src/runner/status.js';
import type { WorkloadSpec } from '../../src/runner/workloads.js';

const workload = (kind: 'Deployment' | 'Rollout', replicas = 2): WorkloadSpec => ({
  key: `ns/${kind}/app`,
  kind,
  namespace: 'ns',
  name: 'app',
  uid: 'u',
  generation: 3,
  replicas,
  template: { spec: { containers: [] } },
  templateHash: 'h1',
  hashLabel: 'pod-template-hash',
  selector: { app: 'x' },
  minReadySeconds: 0,
  progressDeadlineSeconds: 600,
  maxSurge: 1,
  maxUnavailable: 0,
});
const r = (hash: string, ready: boolean, terminating = false) => ({
  hash,
  ready,
  available: ready,
  terminating,
});

describe('dev runner: workload status', () => {
  it('counts live replicas only, and updated ones by template hash', () => {
    expect(
      countReplicas([r('h1', true), r('h0', true), r('h1', false), r('h1', true, true)], 'h1'),
    ).to.deep.equal({
      replicas: 3,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    });
  });

  it('writes a complete Deployment as the Deployment controller does', () => {
    const counts = countReplicas([r('h1', true), r('h1', true)], 'h1');
    const status = deploymentStatus({
      workload: workload('Deployment'),
      counts,
      deadlineExceeded: false,
      previousConditions: [],
      now: '2025-01-01T00:00:00Z',
    });
    expect(status).to.deep.include({
      observedGeneration: 3,
      replicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    });
    const conditions = status.conditions as Condition[];
    expect(conditions.map((c) => [c.type, c.status, c.reason])).to.deep.equal([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);
  });

  it('keeps transition times while a condition keeps its status, and reports a missed deadline', () => {
    const counts = countReplicas([r('h1', false)], 'h1');
    const first = deploymentStatus({
      workload: workload('Deployment', 1),
      counts,
      deadlineExceeded: false,
      previousConditions: [],
      now: '2025-01-01T00:00:00Z',
    });
    const later = deploymentStatus({
      workload: workload('Deployment', 1),
      counts,
      deadlineExceeded: true,
      previousConditions: first.conditions as Condition[],
      now: '2025-01-01T00:10:00Z',
    });
    const [available, progressing] = later.conditions as Condition[];
    expect(available!.lastTransitionTime).to.equal('2025-01-01T00:00:00Z');
    expect(progressing).to.include({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(progressing!.lastTransitionTime).to.equal('2025-01-01T00:10:00Z');
    expect(later).to.include({ unavailableReplicas: 1 });
  });

  it('writes the Rollout fields the operator reads: phase Healthy only when complete', () => {
    const base = { workload: workload('Rollout'), previousConditions: [], now: '2025-01-01T00:00:00Z' };
    const healthy = rolloutStatus({
      ...base,
      counts: countReplicas([r('h1', true), r('h1', true)], 'h1'),
      deadlineExceeded: false,
    });
    expect(healthy).to.deep.include({
      phase: 'Healthy',
      readyReplicas: 2,
      updatedReplicas: 2,
      observedGeneration: '3',
      stableRS: 'h1',
      selector: 'app=x',
    });
    const rolling = rolloutStatus({
      ...base,
      counts: countReplicas([r('h0', true), r('h0', true), r('h1', false)], 'h1'),
      deadlineExceeded: false,
      previousStableRS: 'h0',
    });
    expect(rolling).to.deep.include({
      phase: 'Progressing',
      stableRS: 'h0',
      message: 'more replicas need to be updated',
    });
    const stuck = rolloutStatus({ ...base, counts: countReplicas([], 'h1'), deadlineExceeded: true });
    expect(stuck).to.include({ phase: 'Degraded' });
  });
});
