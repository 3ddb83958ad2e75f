import { expect } from 'chai';
import { ALL_CAPABILITIES } from '../../src/specs/capabilities.js';
import { desiredObjects } from '../../src/specs/desired-state.js';
import { DESIRED_HASH_ANNOTATION } from '../../src/specs/meta.js';
import { sampleCluster } from '../support/sample-cluster.js';

const kinds = (objects: { kind: string }[]) =>
  objects.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o.kind]: (acc[o.kind] ?? 0) + 1 }), {});

describe('desired state of a ChatCluster', () => {
  it('owns everything the issue lists when Argo Rollouts and the Prometheus Operator are installed', () => {
    const objects = desiredObjects(
      sampleCluster({ ingress: { enabled: true, host: 'chat.example.com' } }),
      ALL_CAPABILITIES,
    );
    expect(kinds(objects)).to.deep.equal({
      ConfigMap: 4,
      Ingress: 1,
      ServiceAccount: 3,
      Deployment: 3,
      Service: 3,
      PodDisruptionBudget: 3,
      HorizontalPodAutoscaler: 3,
      NetworkPolicy: 3,
      Rollout: 3,
      AnalysisTemplate: 3 + 5,
      ServiceMonitor: 3,
      PrometheusRule: 1,
    });
  });

  it('falls back to Deployments and no monitoring objects when the optional CRDs are missing', () => {
    const objects = desiredObjects(sampleCluster(), { argoRollouts: false, prometheusOperator: false });
    const k = kinds(objects);
    for (const kind of ['Rollout', 'AnalysisTemplate', 'ServiceMonitor', 'PrometheusRule'])
      expect(k).to.not.have.property(kind);
    expect(k.Deployment).to.equal(3);
  });

  it('gives every object a unique name per kind, the namespace and a controller owner reference', () => {
    const objects = desiredObjects(sampleCluster(), ALL_CAPABILITIES);
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const o of objects) {
      expect(o.metadata.namespace, o.kind).to.equal('chat');
      expect(o.metadata.ownerReferences).to.deep.equal([
        {
          apiVersion: 'chatcluster.io/v1alpha1',
          kind: 'ChatCluster',
          name: 'prod',
          uid: '0b1f6c1e-0000-4000-8000-000000000001',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(o.metadata.labels).to.include({
        'app.kubernetes.io/managed-by': 'chatcluster-operator',
        'chatcluster.io/cluster': 'prod',
      });
    }
  });

  it('hashes each object: stable for the same spec, different when the object changes', () => {
    const hashes = (spec: Record<string, unknown>) =>
      Object.fromEntries(
        desiredObjects(sampleCluster(spec), ALL_CAPABILITIES).map((o) => [
          `${o.kind}/${o.metadata.name}`,
          o.metadata.annotations![DESIRED_HASH_ANNOTATION],
        ]),
      );
    const before = hashes({});
    expect(hashes({})).to.deep.equal(before);
    const after = hashes({ components: { auth: { replicas: 5, autoscaling: { enabled: false } } } });
    const changed = Object.keys(before).filter((k) => before[k] !== after[k]);
    expect(changed.sort()).to.deep.equal(['HorizontalPodAutoscaler/prod-auth', 'Rollout/prod-auth']);
  });

  it('builds nothing it cannot: without Prometheus no analysis templates even for a canary', () => {
    const k = kinds(desiredObjects(sampleCluster(), { argoRollouts: true, prometheusOperator: false }));
    expect(k.Rollout).to.equal(3);
    expect(k).to.not.have.property('AnalysisTemplate');
  });
});
