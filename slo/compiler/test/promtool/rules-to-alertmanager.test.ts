// The compiled rules in a real Prometheus, scraping a stand-in for the message service's /metrics,
// alerting a real Alertmanager with the committed routing: injected 5xx errors page, and the same
// SLO's tickets are held back. (The end-to-end test against the real message service is still to
// come, once that service exists.)
import {
  startAlertmanager,
  startPrometheus,
  type AlertmanagerServer,
  type PrometheusServer,
} from '@chatcluster/harness';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { toYaml, type AlertmanagerConfig } from '../../src/index.js';
import { GENERATED_DIR } from '../support/repo.js';
import { StandInExporter } from '../support/stand-in-exporter.js';
import { WebhookReceiver, waitFor } from '../support/webhook-receiver.js';

type ApiAlert = { labels: Record<string, string>; state?: string; status?: { inhibitedBy: string[] } };

describe('compiled rules in Prometheus -> Alertmanager (message API, stand-in exporter)', function () {
  this.timeout(120_000);
  let receiver: WebhookReceiver;
  let alertmanager: AlertmanagerServer;
  let exporter: StandInExporter;
  let prometheus: PrometheusServer;

  before(async () => {
    receiver = await WebhookReceiver.start();
    const config = parse(readFileSync(join(GENERATED_DIR, 'alertmanager.yml'), 'utf8')) as AlertmanagerConfig;
    config.route.group_wait = '1s';
    config.route.group_interval = '1s';
    for (const r of config.receivers)
      r.webhook_configs = [{ url: `${receiver.url}/${r.name}`, send_resolved: false }];
    alertmanager = await startAlertmanager({ configYaml: toYaml(config) });
    exporter = await StandInExporter.start();
    exporter.setTraffic(100, 0);
    prometheus = await startPrometheus({
      configYaml: toYaml({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          { job_name: 'message', static_configs: [{ targets: [`127.0.0.1:${exporter.port}`] }] },
        ],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${alertmanager.port}`] }] }] },
      }),
      ruleFiles: [join(GENERATED_DIR, 'rules', 'message-api-availability.rules.yml')],
    });
  });

  after(async () => {
    await prometheus?.stop();
    await exporter?.stop();
    await alertmanager?.stop();
    await receiver?.stop();
  });

  const prometheusAlerts = async (): Promise<ApiAlert[]> =>
    ((await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: ApiAlert[] } }).data
      .alerts;

  it('stays quiet while requests succeed', async () => {
    // Wait until the SLI is measured (a ratio exists), then some more evaluations.
    await waitFor('the 5m error ratio to be recorded', async () => {
      const url = `${prometheus.url}/api/v1/query?query=${encodeURIComponent('slo:sli_error:ratio_rate5m{slo="message-api-availability"}')}`;
      const body = (await (await fetch(url)).json()) as { data: { result: { value: [number, string] }[] } };
      return body.data.result[0]?.value[1] === '0' ? true : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await prometheusAlerts()).to.deep.equal([]);
    expect(receiver.notifications).to.deep.equal([]);
  });

  it('pages through Alertmanager once every request fails, and holds back the tickets', async () => {
    exporter.setTraffic(0, 100);
    const page = await waitFor(
      'the 1h/5m page in Alertmanager',
      async () => {
        const alerts = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as ApiAlert[];
        return alerts.find(
          (a) =>
            a.labels.alertname === 'MessageApiAvailabilityErrorBudgetBurn' && a.labels.long_window === '1h',
        );
      },
      60_000,
    );
    expect(page.labels).to.include({
      slo: 'message-api-availability',
      service: 'message',
      severity: 'critical',
      short_window: '5m',
    });
    await waitFor('the pager to be notified', () =>
      receiver.alertsAt('/pager').length > 0 ? true : undefined,
    );
    expect(receiver.alertsAt('/pager').every((labels) => labels.slo === 'message-api-availability')).to.equal(
      true,
    );
    const tickets = ((await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as ApiAlert[]).filter(
      (a) => a.labels.severity === 'warning',
    );
    for (const ticket of tickets)
      expect(ticket.status!.inhibitedBy, JSON.stringify(ticket.labels)).to.not.be.empty;
    expect(receiver.alertsAt('/chat')).to.deep.equal([]);
  });
});
