// The service's own metrics (docs/architecture.md "Metric names"; the SLO issue reads them). The kit
// adds breaker state/events, retry attempts and bulkhead in-flight/queued under the same prefix.
import type { Metrics } from '@chatcluster/kit';
import type { Counter, Gauge } from 'prom-client';
import { providers } from './events.js';

export interface NotificationMetrics {
  /** Deliveries the provider accepted. */
  readonly sent: Counter<'provider'>;
  /**
   * Delivery tries that ended without the provider accepting (error after retries, timeout, open
   * breaker, full bulkhead, bad credentials); one per try, not per HTTP retry. Tries refused for
   * the notification itself (4xx such as an unregistered token) are not counted: they say nothing
   * about the provider. SLI: sent / (sent + failed).
   */
  readonly failed: Counter<'provider'>;
  /** HTTP calls repeated after a retryable failure. */
  readonly retried: Counter<'provider'>;
  /** Written to the dead-letter stream; provider `none` for bad events. */
  readonly deadLettered: Counter<'provider' | 'reason'>;
  /** Redelivered deliveries skipped because their dedupe record says sent. */
  readonly deduplicated: Counter<'provider'>;
  /** Recipients not notified by design: online, muted, preference none, no device or address. */
  readonly skipped: Counter<'reason'>;
  /** Entries not yet acknowledged: unread plus read-but-pending. */
  readonly streamPending: Gauge;
  /** Age of the oldest entry not yet acknowledged (0 when none). */
  readonly streamOldestPendingSeconds: Gauge;
  /** 1 when the provider is configured, 0 when it is off (its deliveries are dead-lettered). */
  readonly providerEnabled: Gauge<'provider'>;
}

export function notificationMetrics(metrics: Metrics): NotificationMetrics {
  const m: NotificationMetrics = {
    sent: metrics.counter('sent_total', 'Notifications the provider accepted.', ['provider']),
    failed: metrics.counter(
      'failed_total',
      'Delivery tries that ended without the provider accepting (one per try, not per HTTP retry).',
      ['provider'],
    ),
    retried: metrics.counter('retried_total', 'Provider calls repeated after a retryable failure.', [
      'provider',
    ]),
    deadLettered: metrics.counter(
      'dead_lettered_total',
      'Deliveries and events written to the dead-letter stream.',
      ['provider', 'reason'],
    ),
    deduplicated: metrics.counter(
      'deduplicated_total',
      'Redelivered deliveries skipped because they were already sent.',
      ['provider'],
    ),
    skipped: metrics.counter('skipped_total', 'Recipients not notified by design.', ['reason']),
    streamPending: metrics.gauge(
      'stream_pending',
      'chat:notify entries not yet acknowledged by the group (unread plus pending).',
      [],
    ),
    streamOldestPendingSeconds: metrics.gauge(
      'stream_oldest_pending_seconds',
      'Age of the oldest chat:notify entry not yet acknowledged.',
      [],
    ),
    providerEnabled: metrics.gauge(
      'provider_enabled',
      'Whether the provider is configured (1) or off (0, its deliveries are dead-lettered).',
      ['provider'],
    ),
  };
  // The SLI's counters exist from the start, or an idle service looks absent to the SLO alerts.
  for (const provider of providers) {
    m.sent.inc({ provider }, 0);
    m.failed.inc({ provider }, 0);
    m.retried.inc({ provider }, 0);
  }
  return m;
}
