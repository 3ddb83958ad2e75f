// prometheus.yml for `make dev` and the tests: Prometheus on this machine discovers the cluster's
// endpoints through the API server (kubernetes_sd) and scrapes the pods directly (the host routes to
// the pod network). The relabelling gives the series the labels the Prometheus Operator gives them
// from the operator's ServiceMonitors (`endpoints: [{port: http, path: /metrics}]`,
// `podTargetLabels: [rollouts-pod-template-hash]`): job = the Service, namespace, service, pod,
// container, endpoint, rollouts_pod_template_hash. Pure: the config as a function of its inputs.

export interface ClusterPrometheusOptions {
  /** `https://<node>:6443` */
  apiServer: string;
  /** Client credentials Prometheus reads the API with. */
  tls: { caFile: string; certFile: string; keyFile: string };
  /** `host:port` of Alertmanager. */
  alertmanager: string;
  /** The operator's namespace (its Service carries app.kubernetes.io/name=chatcluster-operator). */
  operatorNamespace: string;
  scrapeInterval?: string;
}

type Relabel = Record<string, unknown>;

const keep = (label: string, regex: string): Relabel => ({
  source_labels: [label],
  regex,
  action: 'keep',
});
const copy = (label: string, target: string): Relabel => ({
  source_labels: [label],
  target_label: target,
});

/** What the Prometheus Operator generates for a ServiceMonitor endpoint named `http`. */
const SERVICE_MONITOR_LABELS: Relabel[] = [
  keep('__meta_kubernetes_endpoint_port_name', 'http'),
  copy('__meta_kubernetes_namespace', 'namespace'),
  copy('__meta_kubernetes_service_name', 'service'),
  copy('__meta_kubernetes_pod_name', 'pod'),
  copy('__meta_kubernetes_pod_container_name', 'container'),
  copy('__meta_kubernetes_service_name', 'job'),
  { replacement: 'http', target_label: 'endpoint' },
];

export function clusterPrometheusConfig(options: ClusterPrometheusOptions): string {
  const interval = options.scrapeInterval ?? '15s';
  const discovery = (namespaces?: string[]) => [
    {
      role: 'endpoints',
      api_server: options.apiServer,
      tls_config: {
        ca_file: options.tls.caFile,
        cert_file: options.tls.certFile,
        key_file: options.tls.keyFile,
      },
      ...(namespaces ? { namespaces: { names: namespaces } } : {}),
    },
  ];
  return `${JSON.stringify(
    {
      global: { scrape_interval: interval, evaluation_interval: interval },
      scrape_configs: [
        {
          job_name: 'chatcluster',
          kubernetes_sd_configs: discovery(),
          relabel_configs: [
            // The Services the operator made (never make dev's NodePort Services, which would scrape
            // twice; nor the operator's own, the next job, though its chart labels it part-of too).
            keep('__meta_kubernetes_service_label_app_kubernetes_io_part_of', 'chatcluster'),
            {
              source_labels: ['__meta_kubernetes_service_label_app_kubernetes_io_name'],
              regex: 'chatcluster-operator',
              action: 'drop',
            },
            ...SERVICE_MONITOR_LABELS,
            copy('__meta_kubernetes_pod_label_rollouts_pod_template_hash', 'rollouts_pod_template_hash'),
          ],
        },
        {
          job_name: 'chatcluster-operator',
          kubernetes_sd_configs: discovery([options.operatorNamespace]),
          relabel_configs: [
            keep('__meta_kubernetes_service_label_app_kubernetes_io_name', 'chatcluster-operator'),
            ...SERVICE_MONITOR_LABELS,
          ],
        },
      ],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] },
    },
    null,
    2,
  )}\n`;
}
