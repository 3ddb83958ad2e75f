// Synthetic counters, per SLO, shaped like the services will export them (see docs/architecture.md),
// including series that must NOT count: failing readiness probes, client-initiated closes, the
// other histogram buckets. promtool's expanding notation ("0+5x10") describes them compactly.
import type { Phase } from './burn-model.js';

export interface InputSeries {
  series: string;
  values: string;
}

const number = (value: number): string => String(Number(value.toPrecision(12)));

/** A counter growing by `perMinute(phase)` per minute in each phase, sampled every minute from 0. */
export function counterValues(phases: Phase[], perMinute: (phase: Phase) => number): string {
  const parts = ['0'];
  let value = 0;
  for (const phase of phases) {
    const step = perMinute(phase);
    parts.push(`${number(value + step)}+${number(step)}x${phase.minutes - 1}`);
    value += step * phase.minutes;
  }
  return parts.join(' ');
}

type Builder = (phases: Phase[], budget: number) => InputSeries[];

const good = (budget: number) => (phase: Phase) => phase.eventsPerMinute * (1 - phase.burn * budget);
const bad = (budget: number) => (phase: Phase) => phase.eventsPerMinute * phase.burn * budget;
const all = (phase: Phase): number => phase.eventsPerMinute;

function httpApi(prefix: string): Builder {
  return (phases, budget) => [
    {
      series: `${prefix}_http_requests_total{route="/api/v1/messages",method="POST",code="201"}`,
      values: counterValues(phases, good(budget)),
    },
    {
      series: `${prefix}_http_requests_total{route="/api/v1/messages",method="POST",code="503"}`,
      values: counterValues(phases, bad(budget)),
    },
    // Readiness failing all along (a dependency is down): probes are not user requests.
    {
      series: `${prefix}_http_requests_total{route="/health/readiness",method="GET",code="503"}`,
      values: counterValues(phases, () => 6),
    },
  ];
}

/** Series for each SLO of slo/definitions, by SLO name. A new SLO needs an entry here. */
export const SYNTHETIC_TRAFFIC: Record<string, Builder> = {
  // Half the events are messages to publish, half are deliveries to sockets; both legs fail alike.
  'message-delivery': (phases, budget) => [
    {
      series: 'chat_message_delivery_latency_seconds_bucket{le="0.2"}',
      values: counterValues(phases, (p) => good(budget)(p) * 0.5 * 0.8),
    },
    {
      series: 'chat_message_delivery_latency_seconds_bucket{le="0.3"}',
      values: counterValues(phases, (p) => good(budget)(p) * 0.5 * 0.9),
    },
    {
      series: 'chat_message_delivery_latency_seconds_bucket{le="0.5"}',
      values: counterValues(phases, (p) => good(budget)(p) * 0.5),
    },
    {
      series: 'chat_message_delivery_latency_seconds_bucket{le="+Inf"}',
      values: counterValues(phases, (p) => all(p) * 0.5),
    },
    {
      series: 'chat_message_delivery_latency_seconds_count',
      values: counterValues(phases, (p) => all(p) * 0.5),
    },
    {
      series: 'chat_message_publish_latency_seconds_bucket{le="0.5"}',
      values: counterValues(phases, (p) => good(budget)(p) * 0.5),
    },
    {
      series: 'chat_message_publish_latency_seconds_bucket{le="+Inf"}',
      values: counterValues(phases, (p) => all(p) * 0.5),
    },
    {
      series: 'chat_message_publish_latency_seconds_count',
      values: counterValues(phases, (p) => all(p) * 0.5),
    },
    {
      series: 'chat_message_sends_total{outcome="stored"}',
      values: counterValues(phases, (p) => all(p) * 0.5),
    },
    // Resends answered from the first are no new messages.
    {
      series: 'chat_message_sends_total{outcome="duplicate"}',
      values: counterValues(phases, (p) => all(p) * 0.1),
    },
  ],
  'message-api-availability': httpApi('chat_message'),
  'auth-availability': httpApi('chat_auth'),
  'websocket-stability': (phases, budget) => [
    // Connections that ended: most by the client or a deploy (clean), the bad ones split across the
    // three unclean reasons.
    {
      series: 'chat_message_ws_connections_closed_total{reason="client"}',
      values: counterValues(phases, (p) => good(budget)(p) * 0.9),
    },
    {
      series: 'chat_message_ws_connections_closed_total{reason="shutdown"}',
      values: counterValues(phases, (p) => good(budget)(p) * 0.1),
    },
    {
      series: 'chat_message_ws_connections_closed_total{reason="error"}',
      values: counterValues(phases, (p) => bad(budget)(p) * 0.6),
    },
    {
      series: 'chat_message_ws_connections_closed_total{reason="heartbeat"}',
      values: counterValues(phases, (p) => bad(budget)(p) * 0.2),
    },
    {
      series: 'chat_message_ws_connections_closed_total{reason="lost"}',
      values: counterValues(phases, (p) => bad(budget)(p) * 0.2),
    },
    // Opens are not the denominator: reconnects after a crash must not dilute it.
    { series: 'chat_message_ws_connections_opened_total', values: counterValues(phases, (p) => all(p) * 3) },
  ],
  'notification-success': (phases, budget) => [
    { series: 'chat_notification_sent_total{provider="fcm"}', values: counterValues(phases, good(budget)) },
    { series: 'chat_notification_failed_total{provider="fcm"}', values: counterValues(phases, bad(budget)) },
  ],
};

/** Something unrelated to any SLI, for scenarios where the SLI's counters are not exported. */
export function unrelatedSeries(minutes: number): InputSeries[] {
  return [{ series: 'up{job="unrelated"}', values: `1+0x${minutes}` }];
}
