// WebSocket health and delivery (reliability-design-review.md #1 and #5; reliability-evaluation.md,
// "WebSocket-specific metrics").
import { dashboard, quantiles, rate, type GrafanaDashboard } from '../grafana.js';

export function websockets(): GrafanaDashboard {
  return dashboard({
    uid: 'chatcluster-websockets',
    title: 'ChatCluster / WebSockets',
    description: 'Connections, opens and closes by reason, delivery latency and acknowledged deliveries.',
    tags: ['chatcluster', 'websocket'],
    rows: [
      {
        title: 'Connections',
        panels: [
          {
            title: 'Open connections by instance',
            description: 'A sudden drop on one instance (more than 20 %) means its clients were cut off.',
            unit: 'short',
            min: 0,
            queries: [
              { expr: 'sum by (instance) (chat_message_ws_connections)', legend: '{{instance}}' },
              { expr: 'sum(chat_message_ws_connections)', legend: 'total' },
            ],
          },
          {
            title: 'Connections opened per second',
            description:
              'New connections, reconnects included: a spike after a deploy is the reconnect herd.',
            unit: 'cps',
            queries: [{ expr: `sum(${rate('chat_message_ws_connections_opened_total')})`, legend: 'opened' }],
          },
          {
            title: 'Connections closed per second by reason',
            description: 'Only `error` counts against the WebSocket stability SLO.',
            unit: 'cps',
            queries: [
              {
                expr: `sum by (reason) (${rate('chat_message_ws_connections_closed_total')})`,
                legend: '{{reason}}',
              },
            ],
          },
          {
            title: 'Connections ended without a clean close',
            description:
              'Closes by an error, a dead peer (heartbeat) or a killed instance (lost) as a share of all closes: the stability SLI (objective 99.9 %, so 0.1 %).',
            unit: 'percentunit',
            min: 0,
            thresholds: [
              { value: null, color: 'green' },
              { value: 0.001, color: 'red' },
            ],
            thresholdLines: true,
            queries: [
              {
                expr: `sum(${rate('chat_message_ws_connections_closed_total{reason=~"error|heartbeat|lost"}')}) / sum(${rate('chat_message_ws_connections_closed_total')})`,
                legend: 'unclean closes / closes',
              },
            ],
          },
        ],
      },
      {
        title: 'Delivery',
        panels: [
          {
            title: 'Delivery latency (acceptance to send)',
            description: 'Percentiles of the time from a message being accepted to its send to a subscriber.',
            unit: 's',
            queries: quantiles('chat_message_delivery_latency_seconds_bucket'),
          },
          {
            title: 'Deliveries within 500 ms',
            description: 'The message delivery SLI (objective 99.9 %).',
            unit: 'percentunit',
            max: 1,
            thresholds: [
              { value: null, color: 'red' },
              { value: 0.999, color: 'green' },
            ],
            thresholdLines: true,
            queries: [
              {
                expr: `sum(${rate('chat_message_delivery_latency_seconds_bucket{le="0.5"}')}) / sum(${rate('chat_message_delivery_latency_seconds_count')})`,
                legend: 'within 500 ms',
              },
            ],
          },
          {
            title: 'Deliveries per second',
            description: 'Messages sent to subscribers, and those the clients acknowledged.',
            unit: 'cps',
            queries: [
              { expr: `sum(${rate('chat_message_deliveries_total')})`, legend: 'delivered' },
              {
                expr: `sum(${rate('chat_message_client_acked_deliveries_total')})`,
                legend: 'acknowledged by the client',
              },
            ],
          },
          {
            title: 'Acknowledged delivery ratio',
            description:
              'Deliveries the client acknowledged, out of all deliveries: missing acks mean lost frames.',
            unit: 'percentunit',
            max: 1,
            queries: [
              {
                expr: `sum(${rate('chat_message_client_acked_deliveries_total')}) / sum(${rate('chat_message_deliveries_total')})`,
                legend: 'acknowledged / delivered',
              },
            ],
          },
        ],
      },
    ],
  });
}
