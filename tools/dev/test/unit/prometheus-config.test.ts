import { expect } from 'chai';
import { loadYaml } from '@kubernetes/client-node';
import { clusterPrometheusConfig } from '../../src/prometheus-config.js';

interface ScrapeConfig {
  job_name: string;
  kubernetes_sd_configs: { role: string; api_server: string; namespaces?: { names: string[] } }[];
  relabel_configs: {
    source_labels?: string[];
    regex?: string;
    action?: string;
    target_label?: string;
    replacement?: string;
  }[];
}

describe('dev: Prometheus configuration for the local cluster', () => {
  const config = loadYaml<{ scrape_configs: ScrapeConfig[]; alerting: unknown }>(
    clusterPrometheusConfig({
      apiServer: 'https://10.250.0.1:6443',
      tls: { caFile: '/ca', certFile: '/cert', keyFile: '/key' },
      alertmanager: '127.0.0.1:9093',
      operatorNamespace: 'chatcluster-system',
    }),
  );
  const job = (name: string) => config.scrape_configs.find((c) => c.job_name === name)!;
  const targetOf = (c: ScrapeConfig, label: string) =>
    c.relabel_configs.find((r) => r.target_label === label)?.source_labels?.[0];

  it("discovers endpoints through the API server and keeps the operator's Services' http ports only", () => {
    const services = job('chatcluster');
    expect(services.kubernetes_sd_configs[0]).to.include({
      role: 'endpoints',
      api_server: 'https://10.250.0.1:6443',
    });
    const filters = services.relabel_configs.filter((r) => r.action === 'keep' || r.action === 'drop');
    expect(filters.map((r) => [r.action, r.source_labels?.[0], r.regex])).to.deep.equal([
      ['keep', '__meta_kubernetes_service_label_app_kubernetes_io_part_of', 'chatcluster'],
      // The operator's own Service (its chart labels it part-of too) is the other job's.
      ['drop', '__meta_kubernetes_service_label_app_kubernetes_io_name', 'chatcluster-operator'],
      ['keep', '__meta_kubernetes_endpoint_port_name', 'http'],
    ]);
  });

  it('labels series as the Prometheus Operator does from the ServiceMonitors (the SLO rules and analysis select on them)', () => {
    const services = job('chatcluster');
    expect(targetOf(services, 'job')).to.equal('__meta_kubernetes_service_name');
    expect(targetOf(services, 'service')).to.equal('__meta_kubernetes_service_name');
    expect(targetOf(services, 'namespace')).to.equal('__meta_kubernetes_namespace');
    expect(targetOf(services, 'pod')).to.equal('__meta_kubernetes_pod_name');
    expect(targetOf(services, 'rollouts_pod_template_hash')).to.equal(
      '__meta_kubernetes_pod_label_rollouts_pod_template_hash',
    );
  });

  it("scrapes the operator's Service in its namespace", () => {
    const operator = job('chatcluster-operator');
    expect(operator.kubernetes_sd_configs[0]!.namespaces).to.deep.equal({ names: ['chatcluster-system'] });
    expect(targetOf(operator, 'rollouts_pod_template_hash')).to.equal(undefined);
  });
});
