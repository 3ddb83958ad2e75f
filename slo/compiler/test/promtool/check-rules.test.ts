// `promtool check rules` on every output the compiler makes: the committed rule files, rules
// compiled with the operator's options, the PrometheusRule groups, and the canary queries.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compileRuleGroups,
  toAnalysisTemplate,
  toPrometheusRule,
  toRuleFileYaml,
  type RuleGroup,
} from '../../src/index.js';
import { GENERATED_DIR, repoSlos } from '../support/repo.js';
import { promtool } from '../support/tools.js';

/** Writes groups to a temporary rule file and checks it; returns promtool's result. */
function checkGroups(groups: RuleGroup[]) {
  const dir = mkdtempSync(join(tmpdir(), 'slo-check-'));
  try {
    const file = join(dir, 'rules.yml');
    writeFileSync(file, toRuleFileYaml(groups));
    return promtool(['check', 'rules', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('promtool check rules', function () {
  this.timeout(60_000);

  for (const file of readdirSync(join(GENERATED_DIR, 'rules'))) {
    it(`accepts slo/generated/rules/${file}`, () => {
      const result = promtool(['check', 'rules', join(GENERATED_DIR, 'rules', file)]);
      expect(result.status, result.output).to.equal(0);
      expect(result.output).to.match(/SUCCESS: \d+ rules found/);
    });
  }

  it('accepts rules compiled with matchLabels, extraLabels and a group interval (as the operator does)', () => {
    const groups = compileRuleGroups(repoSlos(), {
      matchLabels: { namespace: 'chat-prod' },
      extraLabels: { chatcluster: 'prod' },
      interval: '30s',
      minimumEvents: 0,
    });
    const result = checkGroups(groups);
    expect(result.status, result.output).to.equal(0);
  });

  it('accepts the groups of the PrometheusRule object', () => {
    const rule = toPrometheusRule(compileRuleGroups(repoSlos()), { name: 'chat-slos', namespace: 'chat' });
    const result = checkGroups(rule.spec.groups);
    expect(result.status, result.output).to.equal(0);
  });

  it('parses every AnalysisTemplate query, Argo arguments substituted', () => {
    const groups: RuleGroup[] = [
      {
        name: 'analysis-queries',
        rules: repoSlos().map((slo, index) => {
          const template = toAnalysisTemplate(slo, {
            name: slo.name,
            namespace: 'chat',
            maxBurnRate: 2,
            prometheusAddress: 'http://prometheus:9090',
            matchLabels: { rollouts_pod_template_hash: '{{args.canary-hash}}' },
          });
          const query = template.spec.metrics[0]!.provider.prometheus.query.replaceAll(
            '{{args.canary-hash}}',
            '5d8f7c',
          );
          return { record: `analysis:query_${index}:check`, expr: query };
        }),
      },
    ];
    const result = checkGroups(groups);
    expect(result.status, result.output).to.equal(0);
  });

  it('rejects a broken rule, so a pass above means something', () => {
    const result = checkGroups([{ name: 'broken', rules: [{ record: 'x:y:z', expr: 'sum(rate(x[5m])' }] }]);
    expect(result.status).to.not.equal(0);
  });
});
