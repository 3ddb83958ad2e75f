// The readiness-degraded alert on the committed rule file (promtool test rules): a check failing on one
// instance of a service fires after 5 minutes, naming the service and the check; a blip shorter than
// that, the other checks and the other services stay quiet; the alert resolves when the check passes.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  READINESS_ALERT,
  READINESS_RUNBOOK,
  DEFAULT_RUNBOOK_BASE_URL,
  toYaml,
  type AlertingRule,
} from '../../src/index.js';
import { readRuleFile } from '../support/promtool-unit.js';
import { GENERATED_DIR } from '../support/repo.js';
import { promtool } from '../support/tools.js';

const RULE_FILE = join(GENERATED_DIR, 'rules', 'readiness.rules.yml');

/** The rule's annotations with `{{ $labels.x }}` filled in, as Prometheus expands them. */
function annotations(labels: Record<string, string>): Record<string, string> {
  const rule = readRuleFile(RULE_FILE)
    .flatMap((g) => g.rules)
    .find((r): r is AlertingRule => 'alert' in r && r.alert === READINESS_ALERT)!;
  return Object.fromEntries(
    Object.entries(rule.annotations ?? {}).map(([k, v]) => [
      k,
      v.replace(/\{\{ \$labels\.([a-z_]+) \}\}/g, (_: string, name: string) => labels[name] ?? ''),
    ]),
  );
}

describe(`${READINESS_ALERT} (promtool test rules)`, function () {
  this.timeout(60_000);

  it('fires 5 minutes after one instance reports a check failing, and resolves when it passes', () => {
    const ns = 'chat';
    const series = [
      // message-a: MongoDB check failing from minute 10 to 30 (readiness itself stays 200).
      {
        series: `chat_message_readiness_check_ok{namespace="${ns}",pod="message-a",check="mongodb"}`,
        values: '1x9 0x20 1x20',
      },
      {
        series: `chat_message_readiness_check_ok{namespace="${ns}",pod="message-a",check="redis"}`,
        values: '1x50',
      },
      {
        series: `chat_message_readiness_check_ok{namespace="${ns}",pod="message-b",check="mongodb"}`,
        values: '1x50',
      },
      // auth: a 3-minute blip of PostgreSQL, shorter than the alert's 5 minutes.
      {
        series: `chat_auth_readiness_check_ok{namespace="${ns}",pod="auth-a",check="postgres"}`,
        values: '1x19 0x2 1x28',
      },
      {
        series: `chat_notification_readiness_check_ok{namespace="${ns}",pod="n-a",check="redis"}`,
        values: '1x50',
      },
    ];
    const labels = { severity: 'warning', namespace: ns, service: 'message', check: 'mongodb' };
    const firing = [{ exp_labels: labels, exp_annotations: annotations(labels) }];
    const test = {
      rule_files: [RULE_FILE],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: series,
          alert_rule_test: [
            { eval_time: '13m', alertname: READINESS_ALERT, exp_alerts: [] },
            { eval_time: '16m', alertname: READINESS_ALERT, exp_alerts: firing },
            { eval_time: '23m', alertname: READINESS_ALERT, exp_alerts: firing },
            { eval_time: '35m', alertname: READINESS_ALERT, exp_alerts: [] },
          ],
        },
      ],
    };
    expect(annotations(labels).runbook_url).to.equal(`${DEFAULT_RUNBOOK_BASE_URL}${READINESS_RUNBOOK}`);
    const dir = mkdtempSync(join(tmpdir(), 'readiness-promtool-'));
    try {
      writeFileSync(join(dir, 'test.yml'), toYaml(test));
      const result = promtool(['test', 'rules', join(dir, 'test.yml')]);
      expect(result.status, result.output).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
