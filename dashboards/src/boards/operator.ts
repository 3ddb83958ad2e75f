// The operator's own health: reconciles, errors, duration, queue depth, API traffic, leadership.
import { dashboard, quantiles, rate, type GrafanaDashboard } from '../grafana.js';
import { OPERATOR_PREFIX as P } from '../services.js';

export function operator(): GrafanaDashboard {
  return dashboard({
    uid: 'chatcluster-operator',
    title: 'ChatCluster / Operator',
    description: 'Reconciles, errors, queue depth and Kubernetes API use of the ChatCluster operator.',
    tags: ['chatcluster', 'operator'],
    rows: [
      {
        title: 'Reconciles',
        panels: [
          {
            title: 'Reconciles per second by result',
            description: 'ChatCluster reconciles finished, by result (success, error).',
            unit: 'cps',
            queries: [{ expr: `sum by (result) (${rate(`${P}_reconcile_total`)})`, legend: '{{result}}' }],
          },
          {
            title: 'Reconcile errors per second',
            description: 'Failed reconciles; each is retried with exponential backoff.',
            unit: 'cps',
            queries: [{ expr: `sum(${rate(`${P}_reconcile_errors_total`)})`, legend: 'errors' }],
          },
          {
            title: 'Reconcile duration',
            description: 'Time to reconcile one ChatCluster.',
            unit: 's',
            queries: quantiles(`${P}_reconcile_duration_seconds_bucket`),
          },
          {
            title: 'Queue depth',
            description:
              'ChatCluster keys waiting to be reconciled; growing means the operator falls behind.',
            unit: 'short',
            min: 0,
            queries: [{ expr: `max(${P}_queue_depth)`, legend: 'depth' }],
          },
        ],
      },
      {
        title: 'Kubernetes API and leadership',
        panels: [
          {
            title: 'API requests per second by verb and code',
            description: 'Requests to the Kubernetes API server.',
            unit: 'reqps',
            queries: [
              {
                expr: `sum by (verb, code) (${rate(`${P}_api_requests_total`)})`,
                legend: '{{verb}} {{code}}',
              },
            ],
          },
          {
            title: 'Watch restarts per second',
            description: 'Informer list-and-watch restarts after errors, by resource.',
            unit: 'cps',
            queries: [
              { expr: `sum by (resource) (${rate(`${P}_watch_restarts_total`)})`, legend: '{{resource}}' },
            ],
          },
          {
            title: 'Child object actions per second',
            description: 'Objects created, updated, corrected (drift) and pruned, by kind.',
            unit: 'cps',
            queries: [
              {
                expr: `sum by (action, kind) (${rate(`${P}_child_actions_total`)})`,
                legend: '{{action}} {{kind}}',
              },
            ],
          },
          {
            title: 'Leader',
            description: 'Replicas holding the leader Lease; exactly one is healthy.',
            unit: 'short',
            min: 0,
            thresholds: [
              { value: null, color: 'red' },
              { value: 1, color: 'green' },
              { value: 2, color: 'red' },
            ],
            queries: [{ expr: `sum(${P}_leader)`, legend: 'leaders' }],
          },
        ],
      },
    ],
  });
}
