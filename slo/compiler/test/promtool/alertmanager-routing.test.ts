// The committed alertmanager.yml: amtool accepts it and routes critical to the pager, warning to
// chat; a real Alertmanager running it inhibits an SLO's tickets while that SLO pages.
import { startAlertmanager, WebhookReceiver, waitFor, type AlertmanagerServer } from '@chatcluster/harness';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { toYaml, type AlertmanagerConfig } from '../../src/index.js';
import { GENERATED_DIR } from '../support/repo.js';
import { amtool } from '../support/tools.js';

const CONFIG = join(GENERATED_DIR, 'alertmanager.yml');
const routeOf = (...labels: string[]): string => {
  const result = amtool(['config', 'routes', 'test', `--config.file=${CONFIG}`, ...labels]);
  expect(result.status, result.output).to.equal(0);
  return result.stdout.trim();
};

describe('slo/generated/alertmanager.yml', function () {
  this.timeout(60_000);

  it('passes amtool check-config', () => {
    const result = amtool(['check-config', CONFIG]);
    expect(result.status, result.output).to.equal(0);
    expect(result.output).to.contain('1 inhibit rules').and.to.contain('2 receivers');
  });

  it('routes pages to the pager and tickets (and anything else) to chat', () => {
    expect(
      routeOf('alertname=MessageDeliveryErrorBudgetBurn', 'slo=message-delivery', 'severity=critical'),
    ).to.equal('pager');
    expect(
      routeOf('alertname=MessageDeliveryErrorBudgetBurn', 'slo=message-delivery', 'severity=warning'),
    ).to.equal('chat');
    expect(
      routeOf('alertname=MessageDeliverySLIAbsent', 'slo=message-delivery', 'severity=warning'),
    ).to.equal('chat');
    expect(routeOf('alertname=Unrelated')).to.equal('chat');
  });

  it('fails amtool routes test --verify.receivers for a wrong receiver, so the checks above can fail', () => {
    const result = amtool([
      'config',
      'routes',
      'test',
      `--config.file=${CONFIG}`,
      '--verify.receivers=pager',
      'severity=warning',
      'slo=x',
    ]);
    expect(result.status).to.not.equal(0);
  });

  describe('in a real Alertmanager', () => {
    let receiver: WebhookReceiver;
    let alertmanager: AlertmanagerServer;

    before(async () => {
      receiver = await WebhookReceiver.start();
      // The committed routes and inhibition; only the webhook URLs and the waits are the test's.
      const config = parse(readFileSync(CONFIG, 'utf8')) as AlertmanagerConfig;
      config.route.group_wait = '1s';
      config.route.group_interval = '1s';
      for (const r of config.receivers)
        r.webhook_configs = [{ url: `${receiver.url}/${r.name}`, send_resolved: false }];
      alertmanager = await startAlertmanager({ configYaml: toYaml(config) });
    });

    after(async () => {
      await alertmanager?.stop();
      await receiver?.stop();
    });

    it("pages for a critical SLO alert and holds back the same SLO's ticket, not another SLO's", async () => {
      const alert = (slo: string, severity: string) => ({
        labels: { alertname: 'ErrorBudgetBurn', slo, severity },
        annotations: { summary: `${slo} ${severity}` },
      });
      const posted = await fetch(`${alertmanager.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          alert('message-delivery', 'critical'),
          alert('message-delivery', 'warning'),
          alert('websocket-stability', 'warning'),
        ]),
      });
      expect(posted.status).to.equal(200);

      type Listed = { labels: Record<string, string>; status: { inhibitedBy: string[] } };
      const listed = await waitFor('three alerts in the API', async () => {
        const alerts = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as Listed[];
        return alerts.length === 3 ? alerts : undefined;
      });
      const inhibited = (slo: string, severity: string): boolean =>
        listed.find((a) => a.labels.slo === slo && a.labels.severity === severity)!.status.inhibitedBy
          .length > 0;
      expect(inhibited('message-delivery', 'warning')).to.equal(true);
      expect(inhibited('message-delivery', 'critical')).to.equal(false);
      expect(inhibited('websocket-stability', 'warning')).to.equal(false);

      await waitFor('the page and the other SLO ticket to be notified', () =>
        receiver.alertsAt('/pager').length > 0 && receiver.alertsAt('/chat').length > 0 ? true : undefined,
      );
      await new Promise((resolve) => setTimeout(resolve, 3_000)); // time for a wrong notification to show up
      expect(receiver.alertsAt('/pager').map((l) => [l.slo, l.severity])).to.deep.equal([
        ['message-delivery', 'critical'],
      ]);
      expect(receiver.alertsAt('/chat').map((l) => [l.slo, l.severity])).to.deep.equal([
        ['websocket-stability', 'warning'],
      ]);
    });
  });
});
