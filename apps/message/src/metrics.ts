// The service metrics the SLOs read (docs/architecture.md, "Metric names"); names must not drift.
import type { Metrics } from '@chatcluster/kit';

export const deliveryLatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5];

/**
 * Why connections end. `error` (no clean close: a protocol or socket error, or the client's 1006),
 * `heartbeat` (the client stopped answering pings) and `lost` (open when the process died, counted by
 * the process that replaced it: ws/lost-connections.ts) count against WebSocket stability.
 */
export const closeReasons = [
  'client',
  'error',
  'heartbeat',
  'idle',
  'lost',
  'shutdown',
  'slow_consumer',
  'token_expired',
  'too_big',
] as const;

/** Every reason from process start, so an SLI dividing by the closes is never absent. */
function closesByReason(metrics: Metrics) {
  const counter = metrics.counter('ws_connections_closed_total', 'WebSocket connections closed, by reason.', [
    'reason',
  ]);
  for (const reason of closeReasons) counter.inc({ reason }, 0);
  return counter;
}

/** `stored` (a new message), `duplicate` (a resend answered from the first), `failed`; from start. */
function sendsByOutcome(metrics: Metrics) {
  const counter = metrics.counter('sends_total', 'Sends by outcome.', ['outcome']);
  for (const outcome of ['stored', 'duplicate', 'failed']) counter.inc({ outcome }, 0);
  return counter;
}

export function messageMetrics(metrics: Metrics) {
  return {
    deliveryLatency: metrics.histogram(
      'delivery_latency_seconds',
      'From acceptance (stored) to the event being written to its subscribers on an instance (once per event).',
      [],
      deliveryLatencyBuckets,
    ),
    connections: metrics.gauge('ws_connections', 'Open WebSocket connections.', []),
    connectionsOpened: metrics.counter('ws_connections_opened_total', 'WebSocket connections opened.', []),
    connectionsClosed: closesByReason(metrics),
    deliveries: metrics.counter('deliveries_total', 'Message events written to subscriber sockets.', []),
    clientAcked: metrics.counter(
      'client_acked_deliveries_total',
      'Deliveries the client acknowledged having processed.',
      [],
    ),
    outboxPending: metrics.gauge(
      'outbox_pending',
      'Seqs allocated and not yet published, as the relay last found them.',
      [],
    ),
    outboxOldest: metrics.gauge(
      'outbox_oldest_pending_seconds',
      'How long the relay has seen the oldest of them unpublished (0 when none).',
      [],
    ),
    outboxRepublished: metrics.counter(
      'outbox_republished_total',
      'Messages and changes the relay had to publish (their sender could not).',
      [],
    ),
    rateLimited: metrics.counter('rate_limited_total', 'Requests and frames refused by a rate limit.', [
      'limit',
    ]),
    sends: sendsByOutcome(metrics),
    // The publishing half of the delivery SLI: a message accepted but never published (a stalled relay,
    // Redis away) reaches no subscriber, so the delivery histogram, which counts writes to sockets,
    // cannot see it; this one, against the stored sends, can.
    publishLatency: metrics.histogram(
      'publish_latency_seconds',
      'From acceptance (stored) to a new message first published to every instance.',
      [],
      deliveryLatencyBuckets,
    ),
    // The WebSocket send path, as the canary analysis judges it: every send frame answered, by the
    // HTTP-equivalent status of the answer (200 for an ack, the error's status otherwise), and how long
    // an acked send took from its frame to its ack (the delivery histogram's buckets, so the SLO's
    // 0.2/0.3/0.5 s thresholds are bucket bounds).
    wsSends: metrics.counter('ws_sends_total', 'Send frames answered, by status (200: acked).', ['code']),
    ackLatency: metrics.histogram(
      'send_ack_latency_seconds',
      'From a send frame received to its ack written.',
      [],
      deliveryLatencyBuckets,
    ),
    holes: metrics.counter('seq_holes_sealed_total', 'Allocated seqs sealed as holes.', []),
    insertConflicts: metrics.counter(
      'store_insert_conflicts_total',
      'Message inserts that hit a unique index (a seq taken, or a clientMessageId stored before).',
      [],
    ),
    malformedFrames: metrics.counter('ws_frames_rejected_total', 'Client frames refused, by code.', ['code']),
  };
}

export type MessageMetrics = ReturnType<typeof messageMetrics>;
