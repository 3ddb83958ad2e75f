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
  status: {
    replicas: desired,
    readyReplicas: ready,
    availableReplicas: ready,
    updatedReplicas: desired,
    phase,
    // Argo Rollouts writes strconv.Itoa(generation).
    observedGeneration: '1',
    stableRS: 'aaa111',
    currentPodHash: 'aaa111',
  },
});
/** The default steps as the operator writes them into the Rollout. */
const ROLLOUT_STEPS = [
  { setWeight: 5 },
  { pause: { duration: '900s' } },
  { setWeight: 50 },
  { pause: { duration: '600s' } },
  { setWeight: 100 },
];
/** A message Rollout in the middle of a canary: 4 pods, 1 on the new version, stable serving. */
const inCanary = (extra: Partial<NonNullable<Workload['status']>> = {}): Workload => ({
  metadata: { generation: 3 },
  spec: { replicas: 3, strategy: { canary: { steps: ROLLOUT_STEPS } } },
  status: {
    replicas: 4,
    readyReplicas: 4,
    availableReplicas: 4,
    updatedReplicas: 1,
    observedGeneration: '3',
    workloadObservedGeneration: '7',
    phase: 'Progressing',
    stableRS: 'aaa111',
    currentPodHash: 'bbb222',
    currentStepIndex: 1,
    canary: { currentBackgroundAnalysisRunStatus: { name: 'prod-message-bbb222-7', status: 'Running' } },
    ...extra,
  },
});
const healthy = rolloutStatus(3, 3, 'Healthy');
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
    const progressing = computeStatus({
      cluster: sampleCluster(),
      caps: ALL_CAPABILITIES,
      workloads: { ...all(rolloutStatus(3, 3, 'Healthy')), message: rolloutStatus(3, 1, 'Progressing') },
      now: T0,
    });
    expect(cond(progressing, 'Ready').status).to.equal('False');
    expect(cond(progressing, 'Progressing').status).to.equal('True');
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

  describe('during a canary', () => {
    const status = (message: Workload, extra: Partial<Parameters<typeof computeStatus>[0]> = {}) =>
      computeStatus({
        cluster: sampleCluster({}, { generation: 5 }),
        caps: ALL_CAPABILITIES,
        workloads: { ...all(healthy), message },
        referencedGenerations: { message: 7 },
        now: T0,
        ...extra,
      });

    it('stays Ready while the stable version serves, Progressing with a reason naming the step', () => {
      const s = status(inCanary());
      expect(cond(s, 'Ready')).to.include({
        status: 'True',
        reason: 'AllComponentsReady',
        observedGeneration: 5,
      });
      expect(cond(s, 'Progressing')).to.include({ status: 'True', reason: 'CanaryStep1' });
      expect(cond(s, 'Progressing').message).to.equal(
        'message: canary step 1/3 (1 of 4 pods on the new version, 5 % declared), analysis Running',
      );
      expect(cond(s, 'Degraded').status).to.equal('False');
      expect(s.phase).to.equal('Progressing');
      const second = status(inCanary({ currentStepIndex: 3, updatedReplicas: 2 }));
      expect(cond(second, 'Progressing')).to.include({ reason: 'CanaryStep2' });
      expect(cond(second, 'Progressing').message).to.contain(
        'step 2/3 (2 of 4 pods on the new version, 50 % declared)',
      );
    });

    it('is not Ready when the stable version does not serve enough pods', () => {
      const s = status(inCanary({ availableReplicas: 2, readyReplicas: 2 }));
      expect(cond(s, 'Ready')).to.include({ status: 'False', reason: 'ComponentsNotReady' });
    });

    it('pauses for a person on an Inconclusive analysis and says what to do', () => {
      const s = status(
        inCanary({
          phase: 'Paused',
          pauseConditions: [{ reason: 'InconclusiveAnalysisRun', startTime: T0 }],
          canary: {
            currentBackgroundAnalysisRunStatus: { name: 'prod-message-bbb222-7', status: 'Inconclusive' },
          },
        }),
      );
      expect(cond(s, 'Ready').status).to.equal('True');
      expect(cond(s, 'Progressing')).to.include({ status: 'True', reason: 'CanaryPaused' });
      expect(cond(s, 'Progressing').message).to.contain('InconclusiveAnalysisRun, analysis Inconclusive');
      expect(cond(s, 'Progressing').message).to.contain('promote or abort');
      expect(cond(s, 'Degraded').status).to.equal('False');
    });

    it('reports an aborted canary as Degraded CanaryAborted with the failing metric from the AnalysisRun', () => {
      const abortedRollout = inCanary({
        abort: true,
        phase: 'Degraded',
        message: 'RolloutAborted: Rollout aborted update to revision 2',
        updatedReplicas: 0,
        replicas: 3,
        availableReplicas: 3,
        canary: { currentBackgroundAnalysisRunStatus: { name: 'prod-message-bbb222-7', status: 'Failed' } },
      });
      const s = status(abortedRollout, {
        analysisRuns: {
          message: {
            name: 'prod-message-bbb222-7',
            phase: 'Failed',
            message: 'Metric "ws-send-failures" assessed Failed due to failed (2) > failureLimit (1)',
            failedMetrics: ['ws-send-failures'],
          },
        },
      });
      expect(cond(s, 'Degraded')).to.include({ status: 'True', reason: 'CanaryAborted' });
      expect(cond(s, 'Degraded').message).to.equal(
        'message: canary aborted, failing metric ws-send-failures (AnalysisRun prod-message-bbb222-7): ' +
          'RolloutAborted: Rollout aborted update to revision 2; the stable version serves 3/3',
      );
      expect(cond(s, 'Ready').status).to.equal('True');
      expect(cond(s, 'Progressing').status).to.equal('False');
      expect(s.phase).to.equal('Degraded');
      // Without the AnalysisRun (not readable), the metric comes from Argo's message.
      const fromMessage = status({
        ...abortedRollout,
        status: {
          ...abortedRollout.status,
          message:
            'RolloutAborted: Rollout aborted update to revision 2: Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)',
        },
      });
      expect(cond(fromMessage, 'Degraded').message).to.contain('failing metric error-rate');
    });

    it('does not judge a Rollout Healthy before Argo observed its generation and its Deployment', () => {
      const lagging = { ...healthy, metadata: { generation: 2 } };
      const s = status(healthy, { workloads: { ...all(healthy), auth: lagging } });
      expect(cond(s, 'Progressing')).to.include({ status: 'True', reason: 'RolloutInProgress' });
      expect(cond(s, 'Progressing').message).to.contain('auth: Rollout generation 2 not yet observed');
      expect(s.phase).to.equal('Progressing');
      // The stable version still serves: Ready does not blink at every release.
      expect(cond(s, 'Ready').status).to.equal('True');
      const unobservedDeployment = status(healthy, {
        referencedGenerations: { message: 8 },
        workloads: {
          ...all(healthy),
          message: { ...healthy, status: { ...healthy.status, workloadObservedGeneration: '7' } },
        },
      });
      expect(cond(unobservedDeployment, 'Progressing').message).to.contain(
        'message: Deployment generation 8 not yet observed by Argo Rollouts',
      );
      const noStatusYet = status({
        ...healthy,
        status: { ...healthy.status, observedGeneration: undefined },
      });
      expect(cond(noStatusYet, 'Progressing').status).to.equal('True');
      const observed = status({ ...healthy, status: { ...healthy.status, workloadObservedGeneration: '7' } });
      expect(observed.phase).to.equal('Ready');
      expect(cond(observed, 'Progressing')).to.include({ status: 'False', reason: 'RolloutComplete' });
    });
  });
});
