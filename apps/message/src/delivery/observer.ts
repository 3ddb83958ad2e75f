// Delivery metrics, updated once per event fanned out rather than once per recipient: the count of
// frames written, and the event's latency observed once (every recipient of one fan-out is written
// in the same turn of the event loop).
import type { MessageEvent } from '@chatcluster/message-sdk';
import type { MessageMetrics } from '../metrics.js';

/** `count` frames were written; `live` names the event when they were a live fan-out of it. */
export type DeliveryObserver = (
  count: number,
  live?: { event: MessageEvent; kind: 'created' | 'mutation' },
) => void;

export function deliveryObserver(
  metrics: Pick<MessageMetrics, 'deliveries' | 'deliveryLatency'>,
): DeliveryObserver {
  return (count, live) => {
    if (count <= 0) return;
    metrics.deliveries.inc(count);
    if (!live) return;
    const from = live.kind === 'created' ? live.event.message.createdAt : live.event.at;
    metrics.deliveryLatency.observe(Math.max(0, (Date.now() - Date.parse(from)) / 1000));
  };
}
