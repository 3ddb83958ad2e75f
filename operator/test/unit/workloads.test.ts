import { expect } from 'chai';
import { ALL_CAPABILITIES } from '../../src/specs/capabilities.js';
import { deployment, rollout } from '../../src/specs/workloads.js';
import type { KubeObject } from '../../src/specs/meta.js';
import { sampleCluster } from '../support/sample-cluster.js';

type Spec = Record<string, unknown> & {
  replicas?: number;
  strategy: { canary?: Record<string, unknown>; type?: string };
  workloadRef?: Record<string, string>;
};
const specOf = (o: KubeObject) => o.spec as Spec;
const noArgo = { argoRollouts: false, prometheusOperator: true };
const noPrometheus = { argoRollouts: true, prometheusOperator: false };

describe('workloads', () => {
  it('makes a Rollout that takes the Deployment over through workloadRef', () => {
    const r = rollout(sampleCluster(), 'message', ALL_CAPABILITIES);
    expect(r).to.include({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' });
    expect(specOf(r).workloadRef).to.deep.equal({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'prod-message',
      scaleDown: 'progressively',
    });
    expect(specOf(r).selector).to.deep.equal(
      specOf(deployment(sampleCluster(), 'message', ALL_CAPABILITIES)).selector,
    );
  });

  it('walks the default canary 5% -> 50% -> 100% with the review pauses', () => {
    const steps = specOf(rollout(sampleCluster(), 'message', ALL_CAPABILITIES)).strategy.canary!.steps;
    expect(steps).to.deep.equal([
      { setWeight: 5 },
      { pause: { duration: '900s' } },
      { setWeight: 50 },
      { pause: { duration: '600s' } },
      { setWeight: 100 },
    ]);
  });

  it('gates the whole canary with background analysis of the health and SLO templates, labelled runs', () => {
    const analysis = specOf(rollout(sampleCluster(), 'message', ALL_CAPABILITIES)).strategy.canary!
      .analysis as {
      templates: { templateName: string }[];
      startingStep?: number;
      analysisRunMetadata: { labels: Record<string, string> };
      args: { name: string; valueFrom: { podTemplateHashValue: string } }[];
    };
    expect(analysis.templates.map((t) => t.templateName)).to.deep.equal([
      'prod-message-canary-health',
      'prod-message-api-availability-slo',
      'prod-message-delivery-slo',
      'prod-websocket-stability-slo',
    ]);
    // From the first weight's pause (the canary's pods available, with traffic) until the Rollout
    // completes: every pause measured, and no measurement of a canary that has no pods yet.
    expect(analysis.startingStep).to.equal(1);
    const steps = specOf(rollout(sampleCluster(), 'message', ALL_CAPABILITIES)).strategy.canary!.steps as {
      pause?: unknown;
    }[];
    expect(steps[1]).to.have.property('pause');
    expect(analysis.analysisRunMetadata.labels).to.deep.equal({
      'chatcluster.io/cluster': 'prod',
      'app.kubernetes.io/component': 'message',
    });
    expect(analysis.args).to.deep.equal([
      { name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } },
      { name: 'stable-hash', valueFrom: { podTemplateHashValue: 'Stable' } },
    ]);
  });

  it('runs the canary without analysis when Prometheus is not there to answer', () => {
    expect(specOf(rollout(sampleCluster(), 'auth', noPrometheus)).strategy.canary!.analysis).to.equal(
      undefined,
    );
  });

  it('leaves replicas to the HPA when autoscaling, and to Argo on the Deployment under a Rollout', () => {
    expect(specOf(rollout(sampleCluster(), 'auth', ALL_CAPABILITIES)).replicas).to.equal(undefined);
    expect(specOf(deployment(sampleCluster(), 'auth', ALL_CAPABILITIES)).replicas).to.equal(undefined);
    const fixed = sampleCluster({ components: { auth: { autoscaling: { enabled: false }, replicas: 4 } } });
    expect(specOf(rollout(fixed, 'auth', ALL_CAPABILITIES)).replicas).to.equal(4);
    expect(specOf(deployment(fixed, 'auth', ALL_CAPABILITIES)).replicas).to.equal(undefined);
  });

  it('falls back to a rolling-update Deployment that owns its replicas when Argo Rollouts is missing', () => {
    const fixed = sampleCluster({ components: { auth: { autoscaling: { enabled: false }, replicas: 4 } } });
    const spec = specOf(deployment(fixed, 'auth', noArgo));
    expect(spec.replicas).to.equal(4);
    expect(spec.strategy).to.deep.equal({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
    });
  });
});
