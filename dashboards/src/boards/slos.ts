// Error budgets and burn rates, read from the recording rules the SLO compiler generates.
import {
  BUDGET_REMAINING_RECORD,
  BURN_RATE_ALERTS,
  CURRENT_BURN_RATE_RECORD,
  ERROR_BUDGET_RECORD,
  OBJECTIVE_RECORD,
  PERIOD_BURN_RATE_RECORD,
  SLI_WINDOWS,
  errorRatioRecord,
  errorsRateRecord,
  totalRateRecord,
} from '@chatcluster/slo-compiler';
import { dashboard, type GrafanaDashboard } from '../grafana.js';

const SELECTED = '{slo="$slo"}';

/** Burn-rate factors of the alerts, drawn as threshold lines. */
const burnThresholds = [
  { value: null, color: 'green' },
  ...[...BURN_RATE_ALERTS]
    .sort((a, b) => a.burnRate - b.burnRate)
    .map((pair) => ({ value: pair.burnRate, color: pair.severity === 'critical' ? 'red' : 'orange' })),
];

const budgetThresholds = [
  { value: null, color: 'red' },
  { value: 0, color: 'orange' },
  { value: 0.25, color: 'green' },
];

export function slos(): GrafanaDashboard {
  return dashboard({
    uid: 'chatcluster-slos',
    title: 'ChatCluster / SLOs',
    description: 'Remaining error budget and burn rate per window of every SLO in slo/definitions.',
    tags: ['chatcluster', 'slo'],
    variables: [{ name: 'slo', label: 'SLO', query: `label_values(${OBJECTIVE_RECORD}, slo)` }],
    rows: [
      {
        title: 'All SLOs',
        panels: [
          {
            title: 'Error budget remaining',
            description: '1 is untouched, 0 is spent, below 0 is overspent (over the SLO period).',
            unit: 'percentunit',
            thresholds: budgetThresholds,
            thresholdLines: true,
            queries: [{ expr: BUDGET_REMAINING_RECORD, legend: '{{slo}}' }],
          },
          {
            title: 'Burn rate, last 5 minutes',
            description: 'How fast each SLO spends its budget: 1 spends it exactly over the period.',
            unit: 'suffix:x',
            min: 0,
            thresholds: burnThresholds,
            thresholdLines: true,
            queries: [{ expr: CURRENT_BURN_RATE_RECORD, legend: '{{slo}}' }],
          },
        ],
      },
      {
        title: '$slo',
        panels: [
          {
            title: 'Objective',
            description: 'Share of events that must be good over the period.',
            unit: 'percentunit',
            kind: 'stat',
            width: 6,
            queries: [{ expr: `${OBJECTIVE_RECORD}${SELECTED}`, legend: 'objective' }],
          },
          {
            title: 'Error budget remaining',
            description: 'Of the budget for the whole period (30 or 28 days).',
            unit: 'percentunit',
            kind: 'stat',
            width: 6,
            thresholds: budgetThresholds,
            queries: [{ expr: `${BUDGET_REMAINING_RECORD}${SELECTED}`, legend: 'remaining' }],
          },
          {
            title: 'Burn rate over the period',
            description: 'Above 1, the budget runs out before the period ends.',
            unit: 'suffix:x',
            kind: 'stat',
            width: 6,
            thresholds: [
              { value: null, color: 'green' },
              { value: 1, color: 'red' },
            ],
            queries: [{ expr: `${PERIOD_BURN_RATE_RECORD}${SELECTED}`, legend: 'period' }],
          },
          {
            title: 'Alerts firing',
            description: 'Alerts of this SLO firing now, by name and severity.',
            unit: 'short',
            kind: 'stat',
            width: 6,
            queries: [
              {
                expr: `sum by (alertname, severity) (ALERTS{slo="$slo",alertstate="firing"})`,
                legend: '{{alertname}} {{severity}}',
              },
            ],
          },
          {
            title: 'Burn rate per window',
            description:
              'Error ratio over each window divided by the budget. Pages need 1h and 5m above 14.4, or 6h and 30m above 6; ' +
              'tickets need 1d and 2h above 3, or 3d and 6h above 1.',
            unit: 'suffix:x',
            width: 24,
            min: 0,
            thresholds: burnThresholds,
            thresholdLines: true,
            queries: SLI_WINDOWS.map((window) => ({
              expr: `${errorRatioRecord(window)}${SELECTED} / ${ERROR_BUDGET_RECORD}${SELECTED}`,
              legend: window,
            })),
          },
          {
            title: 'Events per second',
            description: 'All events the SLI counts, and the bad ones, over 5 minutes.',
            unit: 'cps',
            queries: [
              { expr: `${totalRateRecord('5m')}${SELECTED}`, legend: 'all' },
              { expr: `${errorsRateRecord('5m')}${SELECTED}`, legend: 'bad' },
            ],
          },
          {
            title: 'Error ratio, 5 minutes and 1 hour',
            description: 'Bad events out of all events; no line while there is no traffic.',
            unit: 'percentunit',
            min: 0,
            queries: [
              { expr: `${errorRatioRecord('5m')}${SELECTED}`, legend: '5m' },
              { expr: `${errorRatioRecord('1h')}${SELECTED}`, legend: '1h' },
            ],
          },
        ],
      },
    ],
  });
}
