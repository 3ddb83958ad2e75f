// Writes a `promtool test rules` file for one scenario and runs it against a committed rule file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { toYaml, type AlertingRule, type RuleGroup } from '../../src/index.js';
import type { ExpectedAlert } from './burn-model.js';
import type { InputSeries } from './synthetic-series.js';
import { promtool, type ToolResult } from './tools.js';

export interface AlertCheck {
  minute: number;
  alertname: string;
  expected: ExpectedAlert[];
}

export interface ValueCheck {
  minute: number;
  /** An instant vector selecting exactly one series (or none, when `expected` is 'absent'). */
  expr: string;
  labels: Record<string, string>;
  expected: number | 'absent';
  /** Relative tolerance; default 3 %. */
  tolerance?: number;
}

export function readRuleFile(path: string): RuleGroup[] {
  return (parse(readFileSync(path, 'utf8')) as { groups: RuleGroup[] }).groups;
}

const labelText = (labels: Record<string, string>): string =>
  `{${Object.keys(labels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`)
    .join(',')}}`;

/** `expr` within tolerance of `value` as a 1/0 sample, so promtool's exact comparison can be used. */
function approximately(check: ValueCheck, value: number): string {
  const slack = Math.max(Math.abs(value) * (check.tolerance ?? 0.03), 1e-9);
  return `((${check.expr}) > bool ${value - slack}) * ((${check.expr}) < bool ${value + slack})`;
}

/**
 * Runs promtool on the scenario. Expected alerts get their annotations from the rule that should
 * fire, so a match also proves which rule (which window pair) fired.
 */
export function runScenario(
  ruleFile: string,
  series: InputSeries[],
  alerts: AlertCheck[],
  values: ValueCheck[] = [],
): ToolResult {
  const rules = readRuleFile(ruleFile)
    .flatMap((group) => group.rules)
    .filter((rule): rule is AlertingRule => 'alert' in rule);
  const annotationsFor = (alert: ExpectedAlert): Record<string, string> => {
    // promtool compares the labels exactly; here every label of the rule must be on the alert, which
    // may carry labels of its expression too (absent() adds a selector's equality matchers).
    const rule = rules.find(
      (candidate) =>
        candidate.alert === alert.alertname &&
        Object.entries(candidate.labels ?? {}).every(([name, value]) => alert.labels[name] === value),
    );
    if (!rule)
      throw new Error(
        `no rule in ${ruleFile} is alert ${alert.alertname} with labels ${labelText(alert.labels)}`,
      );
    return rule.annotations ?? {};
  };
  const test = {
    rule_files: [ruleFile],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: series,
        alert_rule_test: alerts.map((check) => ({
          eval_time: `${check.minute}m`,
          alertname: check.alertname,
          exp_alerts: check.expected.map((alert) => ({
            exp_labels: alert.labels,
            exp_annotations: annotationsFor(alert),
          })),
        })),
        promql_expr_test: values.map((check) =>
          check.expected === 'absent'
            ? { expr: check.expr, eval_time: `${check.minute}m`, exp_samples: [] }
            : {
                expr: approximately(check, check.expected),
                eval_time: `${check.minute}m`,
                exp_samples: [{ labels: labelText(check.labels), value: 1 }],
              },
        ),
      },
    ],
  };
  const dir = mkdtempSync(join(tmpdir(), 'slo-promtool-'));
  try {
    writeFileSync(join(dir, 'test.yml'), toYaml(test));
    return promtool(['test', 'rules', join(dir, 'test.yml')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
