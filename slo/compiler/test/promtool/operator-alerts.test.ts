// The operator's own alerts, as the Helm chart ships them (its PrometheusRule rendered by helm), under
// `promtool check rules` and `promtool test rules`: ChatClusterCanaryAborted fires once the leader's
// chat_operator_canary_aborted gauge has been 1 for a minute, names the ChatCluster and component,
// links the runbook, resolves when the gauge drops, and ignores a standby's stale series.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helm } from '@chatcluster/harness';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../support/repo.js';
import { promtool } from '../support/tools.js';

interface PrometheusRule {
  kind: string;
  spec: { groups: { name: string; rules: { alert?: string; annotations?: Record<string, string> }[] }[] };
}

const RUNBOOK = 'https://github.com/chatcluster/chatcluster/blob/main/docs/runbooks/canary-aborted.md';

describe('operator alerts (Helm chart PrometheusRule) under promtool', function () {
  this.timeout(60_000);
  let dir: string;
  let ruleFile: string;
  let rule: PrometheusRule;

  before(async () => {
    const rendered = await helm([
      'template',
      'chat-operator',
      join(REPO_ROOT, 'charts', 'chatcluster-operator'),
      '--set',
      'metrics.serviceMonitor.enabled=true',
      '--show-only',
      'templates/prometheusrule.yaml',
    ]);
    expect(rendered.code, rendered.stderr).to.equal(0);
    rule = parse(rendered.stdout) as PrometheusRule;
    dir = mkdtempSync(join(tmpdir(), 'operator-alerts-'));
    ruleFile = join(dir, 'operator.rules.yml');
    writeFileSync(ruleFile, stringify({ groups: rule.spec.groups }));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is a PrometheusRule promtool accepts, with the runbook linked', () => {
    expect(rule.kind).to.equal('PrometheusRule');
    const result = promtool(['check', 'rules', ruleFile]);
    expect(result.status, result.output).to.equal(0);
    const alert = rule.spec.groups
      .flatMap((g) => g.rules)
      .find((r) => r.alert === 'ChatClusterCanaryAborted');
    expect(alert?.annotations?.runbook_url).to.equal(RUNBOOK);
  });

  it('fires for the aborted component after a minute, resolves when the canary is dealt with', () => {
    const target = (pod: string) => `job="chat-operator",instance="${pod}:8090"`;
    const aborted = (pod: string, component: string) =>
      `chat_operator_canary_aborted{${target(pod)},chatcluster_namespace="chat",chatcluster="prod",component="${component}"}`;
    const labels = { chatcluster_namespace: 'chat', chatcluster: 'prod', severity: 'warning' };
    const test = {
      rule_files: [ruleFile],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            // The leader: message aborted from minute 2 to 6, auth never.
            { series: `chat_operator_leader{${target('operator-a')}}`, values: '1x10' },
            { series: aborted('operator-a', 'message'), values: '0 0 1 1 1 1 1 0 0 0 0' },
            { series: aborted('operator-a', 'auth'), values: '0x10' },
            // A former leader's last values: stale, never alerted on.
            { series: `chat_operator_leader{${target('operator-b')}}`, values: '0x10' },
            { series: aborted('operator-b', 'notification'), values: '1x10' },
          ],
          alert_rule_test: [
            { eval_time: '2m', alertname: 'ChatClusterCanaryAborted', exp_alerts: [] },
            {
              eval_time: '3m',
              alertname: 'ChatClusterCanaryAborted',
              exp_alerts: [
                {
                  exp_labels: { ...labels, component: 'message' },
                  exp_annotations: {
                    summary: 'The message canary of ChatCluster chat/prod was aborted',
                    description:
                      "Argo Rollouts rolled the canary back; the stable version serves. The ChatCluster's Degraded condition (reason CanaryAborted) names the failing metric and the AnalysisRun.",
                    runbook_url: RUNBOOK,
                  },
                },
              ],
            },
            { eval_time: '8m', alertname: 'ChatClusterCanaryAborted', exp_alerts: [] },
          ],
        },
      ],
    };
    const testFile = join(dir, 'canary-aborted.test.yml');
    writeFileSync(testFile, stringify(test));
    const result = promtool(['test', 'rules', testFile]);
    expect(result.status, result.output).to.equal(0);
  });
});
