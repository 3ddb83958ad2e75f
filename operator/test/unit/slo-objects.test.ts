import { expect } from 'chai';
import {
  SLO_OBJECTIVE_FIELDS,
  clusterSlos,
  platformSloDefinitions,
  sloAnalysisTemplates,
  sloPrometheusRule,
} from '../../src/specs/slo-objects.js';
import type { KubeObject } from '../../src/specs/meta.js';
import { sampleCluster } from '../support/sample-cluster.js';

type Rule = { record?: string; alert?: string; expr: string; labels?: Record<string, string> };
const groupsOf = (o: KubeObject) => (o.spec as { groups: { name: string; rules: Rule[] }[] }).groups;

describe('SLO objects from the SLO compiler', () => {
  it('maps every platform SLO to an objective of the ChatCluster spec', () => {
    const names = platformSloDefinitions().map((s) => s.name);
    expect(names.length).to.be.greaterThanOrEqual(5);
    expect(names.filter((n) => !(n in SLO_OBJECTIVE_FIELDS))).to.deep.equal([]);
  });

  it('takes objectives, window and the delivery threshold from the spec', () => {
    const slos = clusterSlos(
      sampleCluster({
        slo: {
          window: '28d',
          apiAvailability: { objectivePercent: 99 },
          messageDelivery: { latencyThresholdSeconds: 0.3 },
        },
      }),
    );
    const api = slos.find((s) => s.name === 'message-api-availability')!;
    expect(api.objective).to.equal(0.99);
    expect(api.period).to.equal('28d');
    const delivery = slos.find((s) => s.name === 'message-delivery')!;
    // Both legs, publishing and delivering, move to the threshold.
    expect(delivery.sli.good).to.have.length(2);
    for (const good of delivery.sli.good!)
      expect(good.matchers).to.deep.include({ name: 'le', op: '=', value: '0.3' });
  });

  it('compiles one group per SLO with every SLI scoped to this ChatCluster namespace and Service', () => {
    const rule = sloPrometheusRule(sampleCluster());
    expect(rule).to.include({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
    expect(rule.metadata.name).to.equal('prod-slo');
    expect(rule.metadata.ownerReferences![0]!.kind).to.equal('ChatCluster');
    const groups = groupsOf(rule);
    // One per SLO, and the readiness-degraded alert.
    expect(groups.map((g) => g.name)).to.deep.equal([
      ...platformSloDefinitions().map((slo) => `slo-${slo.name}`),
      'readiness',
    ]);
    expect(groups.at(-1)!.rules[0]!.expr).to.include(
      'chat_message_readiness_check_ok{namespace="chat",service="prod-message"}',
    );
    const rawSelectors = groups
      .flatMap((g) => g.rules.map((r) => r.expr))
      .flatMap((expr) => [...expr.matchAll(/chat_[a-z_]+\{([^}]*)\}/g)].map((m) => m[1]!));
    expect(rawSelectors.length).to.be.greaterThan(10);
    for (const selector of rawSelectors) expect(selector).to.include('namespace="chat"');
    expect(rawSelectors.some((s) => s.includes('service="prod-auth"'))).to.equal(true);
    const alerts = groups.flatMap((g) => g.rules).filter((r) => r.alert);
    expect(alerts.length).to.be.greaterThan(0);
    for (const alert of alerts) expect(alert.labels).to.include({ chatcluster: 'prod' });
  });

  it('makes an AnalysisTemplate per SLO of the component, measuring only the canary pods', () => {
    const templates = sloAnalysisTemplates(
      sampleCluster({ rollout: { canary: { analysis: { maxBurnRate: 10 } } } }),
      'auth',
    );
    expect(templates.map((t) => t.metadata.name)).to.deep.equal(['prod-auth-availability-slo']);
    const spec = templates[0]!.spec as {
      args: { name: string }[];
      metrics: { successCondition: string; provider: { prometheus: { query: string } } }[];
    };
    expect(spec.args).to.deep.equal([{ name: 'canary-hash' }]);
    expect(spec.metrics[0]!.successCondition).to.include('< 10');
    expect(spec.metrics[0]!.provider.prometheus.query).to.include(
      'rollouts_pod_template_hash="{{args.canary-hash}}"',
    );
  });
});
