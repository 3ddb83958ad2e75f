// The readiness-degraded alert: a readiness check (a dependency: PostgreSQL, MongoDB, Redis, the
// JWKS) failing on an instance for 5 minutes. Readiness itself stays 200 for the dependencies a
// service can run without (message without MongoDB or Redis), so probes never see these: only the
// `<prefix>_readiness_check_ok{check}` gauge, set on every readiness run (apps/kit/src/health.ts), does.
import { DEFAULT_RUNBOOK_BASE_URL } from './rules.js';
import { formatSelector, withMatchLabels } from './selector.js';
import type { RuleGroup } from './types.js';

export const READINESS_ALERT = 'ReadinessDegraded';
/** A procedure rather than an SLO's runbook, so named in kebab-case like canary-aborted.md. */
export const READINESS_RUNBOOK = 'readiness-degraded.md';
export const READINESS_FOR = '5m';
/** The services built on the kit, which export the gauge, by metric prefix. */
export const READINESS_SERVICES = ['auth', 'message', 'notification'] as const;
export type ReadinessService = (typeof READINESS_SERVICES)[number];

export const readinessGauge = (service: ReadinessService): string => `chat_${service}_readiness_check_ok`;

export interface ReadinessAlertOptions {
  runbookBaseUrl?: string;
  /** Equality matchers per service, e.g. its namespace and Service (as the operator scopes SLIs). */
  matchLabels?: (service: ReadinessService) => Record<string, string>;
  /** Labels added to the alert, e.g. `{ chatcluster: 'prod' }`. */
  extraLabels?: Record<string, string>;
}

/**
 * One alert per service, check and namespace while any instance reports the check failing: `min` over
 * the instances is 0. The `service` label names the component, whatever the scrape called its job.
 */
export function readinessRuleGroup(options: ReadinessAlertOptions = {}): RuleGroup {
  const terms = READINESS_SERVICES.map((service) => {
    const selector = withMatchLabels(
      { metric: readinessGauge(service), matchers: [] },
      options.matchLabels?.(service) ?? {},
    );
    return (
      `label_replace(min by (namespace, check) (${formatSelector(selector)}), ` +
      `"service", "${service}", "", "") == 0`
    );
  });
  return {
    name: 'readiness',
    rules: [
      {
        alert: READINESS_ALERT,
        expr: terms.join('\nor\n'),
        for: READINESS_FOR,
        labels: { severity: 'warning', ...(options.extraLabels ?? {}) },
        annotations: {
          summary: 'The {{ $labels.service }} readiness check {{ $labels.check }} is failing.',
          description:
            `At least one {{ $labels.service }} instance has reported its {{ $labels.check }} check failing for ${READINESS_FOR}. ` +
            'The service keeps serving what it can without that dependency (readiness stays 200 for the ones it can run ' +
            'without), so users see a degraded service rather than an outage.',
          runbook_url: `${options.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL}${READINESS_RUNBOOK}`,
        },
      },
    ],
  };
}
