// RED per service: request rate, errors, duration (reliability-evaluation.md, "RED metrics").
import { dashboard, quantiles, rate, type GrafanaDashboard, type PanelSpec } from '../grafana.js';
import { SERVICES } from '../services.js';

const requests = (prefix: string, matchers = ''): string =>
  `${prefix}_http_requests_total${matchers ? `{${matchers}}` : ''}`;
const serverErrorShare = (prefix: string): string =>
  `sum(${rate(requests(prefix, 'code=~"5.."'))}) / sum(${rate(requests(prefix))})`;

function servicePanels(name: string, prefix: string): PanelSpec[] {
  return [
    {
      title: `${name}: requests per second by route`,
      description: 'Rate of HTTP requests, by route.',
      unit: 'reqps',
      width: 8,
      queries: [{ expr: `sum by (route) (${rate(requests(prefix))})`, legend: '{{route}}' }],
    },
    {
      title: `${name}: errors by status class`,
      description: 'Share of requests answered with a 5xx (server errors) and a 4xx (client errors).',
      unit: 'percentunit',
      width: 8,
      min: 0,
      queries: [
        { expr: serverErrorShare(prefix), legend: '5xx' },
        {
          expr: `sum(${rate(requests(prefix, 'code=~"4.."'))}) / sum(${rate(requests(prefix))})`,
          legend: '4xx',
        },
      ],
    },
    {
      title: `${name}: request duration`,
      description: 'Latency percentiles of all requests; the SLO thresholds are 0.2, 0.3 and 0.5 s.',
      unit: 's',
      width: 8,
      queries: quantiles(`${prefix}_http_request_duration_seconds_bucket`),
    },
  ];
}

export function platformOverview(): GrafanaDashboard {
  return dashboard({
    uid: 'chatcluster-overview',
    title: 'ChatCluster / Platform overview',
    description: 'Rate, errors and duration of every ChatCluster service.',
    tags: ['chatcluster', 'red'],
    rows: [
      {
        title: 'All services',
        panels: [
          {
            title: 'Requests per second by service',
            description: 'HTTP requests per second.',
            unit: 'reqps',
            queries: SERVICES.map((s) => ({ expr: `sum(${rate(requests(s.prefix))})`, legend: s.name })),
          },
          {
            title: 'Server errors by service',
            description: 'Share of HTTP requests answered with a 5xx.',
            unit: 'percentunit',
            min: 0,
            queries: SERVICES.map((s) => ({ expr: serverErrorShare(s.prefix), legend: s.name })),
          },
        ],
      },
      ...SERVICES.map((s) => ({ title: s.name, panels: servicePanels(s.name, s.prefix) })),
    ],
  });
}
