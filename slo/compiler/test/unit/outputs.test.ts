import { expect } from 'chai';
import { parse } from 'yaml';
import {
  compileRuleGroups,
  parseSloDocuments,
  toPrometheusRule,
  toRuleFileYaml,
  type RuleGroup,
} from '../../src/index.js';

const groups = (): RuleGroup[] =>
  compileRuleGroups(
    parseSloDocuments(`
apiVersion: openslo/v1
kind: SLO
metadata: { name: a-long-slo-name-so-that-expressions-get-longer-than-lines }
spec:
  service: api
  indicator:
    metadata: { name: requests }
    spec:
      ratioMetric:
        counter: true
        bad: { metricSource: { type: Prometheus, spec: { query: 'x_requests_total{code=~"5..",route!~"/health/.*|/metrics"}' } } }
        total: { metricSource: { type: Prometheus, spec: { query: 'x_requests_total{route!~"/health/.*|/metrics"}' } } }
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.99 }]
`),
  );

describe('rule outputs', () => {
  it('writes a rule file that reads back as the same groups, long expressions unfolded', () => {
    const text = toRuleFileYaml(groups());
    expect(parse(text)).to.deep.equal({ groups: groups() });
    const longest = groups()[0]!
      .rules.map((r) => r.expr)
      .find((e) => e.length > 150 && !e.includes('\n'))!;
    expect(text).to.contain(`expr: ${longest}`);
  });

  it('wraps the groups in a monitoring.coreos.com/v1 PrometheusRule', () => {
    const rule = toPrometheusRule(groups(), {
      name: 'chat-slos',
      namespace: 'chat',
      labels: { release: 'prometheus' },
    });
    expect(rule).to.deep.equal({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'chat-slos', namespace: 'chat', labels: { release: 'prometheus' } },
      spec: { groups: groups() },
    });
    expect(toPrometheusRule(groups(), { name: 'n', namespace: 'ns' }).metadata).to.deep.equal({
      name: 'n',
      namespace: 'ns',
    });
  });

  it("copies the groups, so changing the object never changes the caller's rules", () => {
    const input = groups();
    const rule = toPrometheusRule(input, { name: 'n', namespace: 'ns' });
    rule.spec.groups[0]!.rules[0]!.expr = 'changed';
    expect(input[0]!.rules[0]!.expr).not.to.equal('changed');
  });
});
