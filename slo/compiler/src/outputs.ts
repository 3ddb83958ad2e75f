// Rule groups as the two things Prometheus reads: a plain rule file (for `promtool` and `make dev`)
// and a prometheus-operator PrometheusRule object (for the operator to apply).
import { stringify } from 'yaml';
import type { RuleGroup } from './types.js';

/** YAML without line folding, so a PromQL expression is never wrapped mid-selector. */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0, minContentWidth: 0 });
}

/** A Prometheus rule file (`rule_files:` / `promtool check rules`). */
export function toRuleFileYaml(groups: RuleGroup[]): string {
  return toYaml({ groups });
}

export interface PrometheusRuleOptions {
  name: string;
  namespace: string;
  /** Labels a Prometheus `ruleSelector` matches on, e.g. `{ release: 'prometheus' }`. */
  labels?: Record<string, string>;
}

export interface PrometheusRuleObject {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'PrometheusRule';
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { groups: RuleGroup[] };
}

/** A monitoring.coreos.com/v1 PrometheusRule holding the groups. */
export function toPrometheusRule(groups: RuleGroup[], options: PrometheusRuleOptions): PrometheusRuleObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: options.name,
      namespace: options.namespace,
      ...(options.labels ? { labels: { ...options.labels } } : {}),
    },
    spec: { groups: structuredClone(groups) },
  };
}
