// The services' dependencies: their readiness checks and store calls, bulkheads (the pools), circuit
// breakers, retries, the message outbox, the notification stream, and Redis as the breakers see it. There is no exporter for
// PostgreSQL, MongoDB or Redis themselves in the metric contract, so these are the services' views.
import { dashboard, rate, type GrafanaDashboard, type PanelSpec, type Query } from '../grafana.js';
import { SERVICES } from '../services.js';

/** One query per service; with `only`, per service that exports that family (retries, bulkheads). */
const perService = (
  expr: (prefix: string) => string,
  legend: string,
  only?: 'retries' | 'bulkheads' | 'stores',
): Query[] =>
  SERVICES.filter((s) => only === undefined || s[only]).map((s) => ({
    expr: expr(s.prefix),
    legend: `${s.name} ${legend}`,
  }));

const BREAKER_STATES = { 0: 'closed', 1: 'half-open', 2: 'open' };
const REDIS = '(?i).*redis.*';

function breakerState(title: string, matcher: string): PanelSpec {
  return {
    title,
    description: '0 closed, 1 half-open (probing), 2 open (failing fast).',
    unit: 'none',
    min: 0,
    max: 2,
    valueText: BREAKER_STATES,
    thresholds: [
      { value: null, color: 'green' },
      { value: 1, color: 'orange' },
      { value: 2, color: 'red' },
    ],
    queries: perService((p) => `max by (breaker) (${p}_circuit_breaker_state${matcher})`, '{{breaker}}'),
  };
}

export function dependencies(): GrafanaDashboard {
  return dashboard({
    uid: 'chatcluster-dependencies',
    title: 'ChatCluster / Dependencies',
    description:
      'Bulkheads, circuit breakers, retries, the message outbox, the notification stream and Redis.',
    tags: ['chatcluster', 'dependencies'],
    rows: [
      {
        title: 'Readiness checks and store calls',
        panels: [
          {
            title: 'Readiness checks (1 passing, 0 failing)',
            description:
              'Each dependency check, on its worst instance. 0 for 5 minutes fires ReadinessDegraded (runbook readiness-degraded.md): readiness itself stays 200 for the dependencies a service can run without.',
            unit: 'none',
            width: 8,
            min: 0,
            max: 1,
            thresholds: [
              { value: null, color: 'red' },
              { value: 1, color: 'green' },
            ],
            queries: perService((p) => `min by (check) (${p}_readiness_check_ok)`, '{{check}}'),
          },
          {
            title: 'Store call duration p99 by operation',
            description:
              "99th percentile of each operation's calls to the service's own store (message: MongoDB, auth: PostgreSQL), failed calls included.",
            unit: 's',
            width: 8,
            min: 0,
            queries: perService(
              (p) =>
                `histogram_quantile(0.99, sum by (le, operation) (${rate(`${p}_store_call_duration_seconds_bucket`)}))`,
              '{{operation}}',
              'stores',
            ),
          },
          {
            title: 'Store calls per second by operation',
            description: 'How often each operation calls the store: a slow store hurts the busy ones most.',
            unit: 'cps',
            width: 8,
            min: 0,
            queries: perService(
              (p) => `sum by (operation) (${rate(`${p}_store_call_duration_seconds_count`)})`,
              '{{operation}}',
              'stores',
            ),
          },
        ],
      },
      {
        title: 'Pools (bulkheads)',
        panels: [
          {
            title: 'In flight by bulkhead',
            description: 'Calls running inside each bulkhead: its pool in use.',
            unit: 'short',
            width: 8,
            min: 0,
            queries: perService(
              (p) => `sum by (bulkhead) (${p}_bulkhead_in_flight)`,
              '{{bulkhead}}',
              'bulkheads',
            ),
          },
          {
            title: 'Queued by bulkhead',
            description: 'Calls waiting for a slot; a full queue rejects.',
            unit: 'short',
            width: 8,
            min: 0,
            queries: perService(
              (p) => `sum by (bulkhead) (${p}_bulkhead_queued)`,
              '{{bulkhead}}',
              'bulkheads',
            ),
          },
          {
            title: 'Rejected per second by bulkhead',
            description: 'Calls turned away because the pool and its queue were full.',
            unit: 'cps',
            width: 8,
            queries: perService(
              (p) => `sum by (bulkhead) (${rate(`${p}_bulkhead_rejected_total`)})`,
              '{{bulkhead}}',
              'bulkheads',
            ),
          },
        ],
      },
      {
        title: 'Circuit breakers and retries',
        panels: [
          breakerState('Breaker state', ''),
          {
            title: 'Breaker events per second',
            description: 'Successes, failures, timeouts, rejections and state changes, by breaker.',
            unit: 'cps',
            queries: perService(
              (p) => `sum by (breaker, event) (${rate(`${p}_circuit_breaker_events_total`)})`,
              '{{breaker}} {{event}}',
            ),
          },
          {
            title: 'Retry attempts per second',
            description: 'Retries of idempotent operations, by outcome.',
            unit: 'cps',
            width: 24,
            queries: perService(
              (p) => `sum by (operation, outcome) (${rate(`${p}_retry_attempts_total`)})`,
              '{{operation}} {{outcome}}',
              'retries',
            ),
          },
        ],
      },
      {
        title: 'Message outbox',
        panels: [
          {
            title: 'Outbox pending',
            description: 'Messages stored but not yet published to Redis; alert level 1000.',
            unit: 'short',
            min: 0,
            thresholds: [
              { value: null, color: 'green' },
              { value: 1000, color: 'red' },
            ],
            thresholdLines: true,
            queries: [{ expr: 'sum(chat_message_outbox_pending)', legend: 'pending' }],
          },
          {
            title: 'Oldest pending outbox entry',
            description:
              'Age of the oldest unpublished message; the sweeper republishes after 5 s, alert level 5 min.',
            unit: 's',
            min: 0,
            thresholds: [
              { value: null, color: 'green' },
              { value: 300, color: 'red' },
            ],
            thresholdLines: true,
            queries: [{ expr: 'max(chat_message_outbox_oldest_pending_seconds)', legend: 'oldest' }],
          },
        ],
      },
      {
        title: 'Notification stream',
        panels: [
          {
            title: 'Stream pending',
            description: 'Entries of chat:notify read by the consumer group but not yet acknowledged.',
            unit: 'short',
            width: 8,
            min: 0,
            queries: [{ expr: 'sum(chat_notification_stream_pending)', legend: 'pending' }],
          },
          {
            title: 'Oldest pending stream entry',
            description: 'Age of the oldest unacknowledged entry: the notification lag.',
            unit: 's',
            width: 8,
            min: 0,
            queries: [{ expr: 'max(chat_notification_stream_oldest_pending_seconds)', legend: 'oldest' }],
          },
          {
            title: 'Retries and dead letters per second',
            description:
              'Provider calls retried, and notifications given up on (chat:notify:dead), by provider.',
            unit: 'cps',
            width: 8,
            queries: [
              {
                expr: `sum by (provider) (${rate('chat_notification_retried_total')})`,
                legend: 'retried {{provider}}',
              },
              {
                expr: `sum by (provider, reason) (${rate('chat_notification_dead_lettered_total')})`,
                legend: 'dead {{provider}} {{reason}}',
              },
            ],
          },
        ],
      },
      {
        title: 'Redis (as the services see it)',
        panels: [
          breakerState('Redis breaker state', `{breaker=~"${REDIS}"}`),
          {
            title: 'Redis breaker events per second',
            description: 'Successes, failures, timeouts and rejections of Redis calls, by breaker.',
            unit: 'cps',
            queries: perService(
              (p) =>
                `sum by (breaker, event) (${rate(`${p}_circuit_breaker_events_total{breaker=~"${REDIS}"}`)})`,
              '{{breaker}} {{event}}',
            ),
          },
        ],
      },
    ],
  });
}
