// End to end with the real message service: a real Prometheus loads the committed rule files of the
// message SLOs (slo/generated/rules, unchanged) and scrapes the running service; Alertmanager runs the
// committed routing, its receivers pointed at a local webhook. The test takes MongoDB away (Toxiproxy
// disables the proxy in front of FerretDB), so sends answer 503: the page arrives at Alertmanager and the
// pager while the same SLO's tickets are held back. MongoDB comes back, the traffic that follows brings
// the short windows' error ratios under the pages' thresholds, and the pages resolve; the longer windows
// still burn, so the tickets then go to the chat. The real windows stay: within one test every window
// holds only the test's own traffic, so the ratios move with the number of requests, not with minutes.
import {
  startAlertmanager,
  startPrometheus,
  waitFor,
  WebhookReceiver,
  type AlertmanagerServer,
  type PrometheusServer,
} from '@chatcluster/harness';
import { call, channelWith, signup, type TestUser } from '@chatcluster/message/testing';
import {
  BURN_RATE_ALERTS,
  burnAlertName,
  loadSlos,
  parseDuration,
  toYaml,
  type AlertmanagerConfig,
  type SloSpec,
} from '@chatcluster/slo-compiler';
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Load } from '../support/load.js';
import { messagePlatform, type MessageSide } from '../support/platform.js';
import { DEFINITIONS_DIR, GENERATED_DIR, RULES_DIR, RUNBOOKS_DIR } from '../support/repo.js';

const SLO = 'message-api-availability';
const ALERT = burnAlertName(SLO);
const PAGE = BURN_RATE_ALERTS.find((pair) => pair.severity === 'critical' && pair.longWindow === '1h')!;

interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt?: string;
  status?: { state: string; inhibitedBy: string[] };
}

/** The committed SLO definitions. */
const repoSlos = (): SloSpec[] =>
  loadSlos(
    readdirSync(DEFINITIONS_DIR)
      .filter((name) => /\.ya?ml$/.test(name))
      .map((name) => ({ path: name, text: readFileSync(join(DEFINITIONS_DIR, name), 'utf8') })),
  );
/** The SLOs of the message service. */
const messageSlos = (): string[] =>
  repoSlos()
    .filter((slo) => slo.service === 'message')
    .map((slo) => slo.name);
/** The share of requests the page fires above: the burn rate times the error budget. */
const pageThreshold = (): number =>
  PAGE.burnRate * (1 - repoSlos().find((slo) => slo.name === SLO)!.objective);

describe('the message SLO rules in Prometheus, scraping the real message service, alerting a real Alertmanager', function () {
  this.timeout(180_000);
  let side: MessageSide;
  let receiver: WebhookReceiver;
  let alertmanager: AlertmanagerServer;
  let prometheus: PrometheusServer;
  let alice: TestUser;
  let channel: string;
  let load: Load | undefined;
  let sent = 0;
  let groupWaitMs: number;

  const send = async (): Promise<number> =>
    (
      await call(side.message.url, 'POST', '/api/v1/messages', {
        body: { channelId: channel, clientMessageId: `slo-e2e-${sent++}`, body: 'burning the budget' },
        token: alice.token,
      })
    ).status;
  const readHistory = async (): Promise<number> =>
    (
      await call(side.message.url, 'GET', `/api/v1/messages?channelId=${channel}&limit=1`, {
        token: alice.token,
      })
    ).status;

  const query = async (expr: string): Promise<number | undefined> => {
    const url = `${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`;
    const body = (await (await fetch(url)).json()) as { data: { result: { value: [number, string] }[] } };
    const value = body.data.result[0]?.value[1];
    return value === undefined ? undefined : Number(value);
  };
  const prometheusAlerts = async (): Promise<ApiAlert[]> =>
    ((await (await fetch(`${prometheus.url}/api/v1/alerts`)).json()) as { data: { alerts: ApiAlert[] } }).data
      .alerts;
  const alertmanagerAlerts = async (): Promise<ApiAlert[]> =>
    (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as ApiAlert[];
  const isPage = (labels: Record<string, string>): boolean =>
    labels.alertname === ALERT && labels.severity === 'critical' && labels.long_window === PAGE.longWindow;

  before(async function () {
    this.timeout(180_000);
    side = await messagePlatform();
    alice = await signup(side.stack.auth.url, 'slo');
    channel = await channelWith(side.stack.auth.url, alice, []);

    receiver = await WebhookReceiver.start();
    const config = parse(readFileSync(join(GENERATED_DIR, 'alertmanager.yml'), 'utf8')) as AlertmanagerConfig;
    // The committed group_wait stays: it is what keeps a ticket that fires a moment before its page
    // out of the chat. Only later notifications of a group come faster than in production.
    groupWaitMs = parseDuration(config.route.group_wait)! * 1000;
    config.route.group_interval = '1s';
    for (const r of config.receivers)
      r.webhook_configs = [{ url: `${receiver.url}/${r.name}`, send_resolved: true }];
    alertmanager = await startAlertmanager({ configYaml: toYaml(config) });
    prometheus = await startPrometheus({
      configYaml: toYaml({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          {
            job_name: 'message',
            static_configs: [{ targets: [`127.0.0.1:${side.message.port}`] }],
          },
        ],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${alertmanager.port}`] }] }] },
      }),
      ruleFiles: messageSlos().map((slo) => join(RULES_DIR, `${slo}.rules.yml`)),
    });
  });

  after(async function () {
    this.timeout(60_000);
    await load?.stop();
    // Leave MongoDB reachable for whatever runs next on the shared platform.
    await side?.stack.toxiproxy.enableProxy(side.stack.mongoProxy).catch(() => undefined);
    await prometheus?.stop();
    await alertmanager?.stop();
    await receiver?.stop();
  });

  it('loads the rules of every message SLO and stays quiet while every send succeeds', async () => {
    expect(messageSlos()).to.have.members([
      'message-api-availability',
      'message-delivery',
      'websocket-stability',
    ]);
    // One user's steady traffic, about ten sends a second; it keeps going into the outage.
    load = new Load(send, { concurrency: 1, pauseMs: 100 });
    await waitFor(
      'the 5m error ratio to be measured as 0 with traffic',
      async () =>
        (await query(`slo:sli_total:rate5m{slo="${SLO}"}`))! > 0 &&
        (await query(`slo:sli_error:ratio_rate5m{slo="${SLO}"}`)) === 0
          ? true
          : undefined,
      60_000,
    );
    await waitFor('100 sends', () => (load!.count((s) => s === 201) >= 100 ? true : undefined), 60_000);
    // A few more evaluations of every rule with the traffic recorded.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(
      load.count((s) => s !== 201),
      JSON.stringify([...load.statuses]),
    ).to.equal(0);
    expect(await prometheusAlerts()).to.deep.equal([]);
    expect(await alertmanagerAlerts()).to.deep.equal([]);
    expect(receiver.notifications).to.deep.equal([]);
  });

  it('pages through Alertmanager once MongoDB is unreachable and sends answer 503, holding back the tickets', async () => {
    await side.stack.toxiproxy.disableProxy(side.stack.mongoProxy);
    const page = await waitFor(
      `the ${PAGE.longWindow}/${PAGE.shortWindow} page in Alertmanager`,
      async () => (await alertmanagerAlerts()).find((a) => isPage(a.labels)),
      60_000,
    );
    const outage = await load!.stop();
    load = undefined;
    // Every failed send was the store's 503; nothing else went wrong.
    expect(outage.get(503), JSON.stringify([...outage])).to.be.greaterThan(0);
    expect([...outage.keys()].filter((s) => s !== 201 && s !== 503)).to.deep.equal([]);

    expect(page.labels).to.include({
      slo: SLO,
      service: 'message',
      severity: 'critical',
      short_window: PAGE.shortWindow,
      burn_rate: String(PAGE.burnRate),
    });
    expect(page.status!.state).to.equal('active');
    const runbook = page.annotations.runbook_url!;
    expect(runbook).to.match(new RegExp(`/docs/runbooks/${ALERT}\\.md$`));
    expect(existsSync(join(RUNBOOKS_DIR, `${ALERT}.md`))).to.equal(true);

    // The slow-burn tickets fire too (in a fresh Prometheus every window holds the same few minutes, so
    // the 1x ticket can even fire a moment before the page); Alertmanager holds them back.
    const tickets = await waitFor('the tickets in Alertmanager', async () => {
      const found = (await alertmanagerAlerts()).filter((a) => a.labels.severity === 'warning');
      return found.length > 0 ? found : undefined;
    });
    for (const ticket of tickets) {
      expect(ticket.labels, JSON.stringify(ticket.labels)).to.include({ alertname: ALERT, slo: SLO });
      expect(ticket.status!.inhibitedBy, JSON.stringify(ticket.labels)).to.not.be.empty;
    }
    await waitFor(
      'the pager to be notified',
      () => (receiver.alertsAt('/pager', 'firing').some(isPage) ? true : undefined),
      groupWaitMs + 30_000,
    );
    expect(receiver.alertsAt('/pager').every((labels) => labels.slo === SLO)).to.equal(true);
    // Past the chat group's first flush: the tickets were held back, not merely not sent yet.
    const ticketsSince = Math.max(...tickets.map((t) => Date.parse(t.startsAt!)));
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, ticketsSince + groupWaitMs + 3_000 - Date.now())),
    );
    for (const ticket of (await alertmanagerAlerts()).filter((a) => a.labels.severity === 'warning')) {
      expect(ticket.status!.state, JSON.stringify(ticket.labels)).to.equal('suppressed');
    }
    expect(receiver.alertsAt('/chat')).to.deep.equal([]);
  });

  it('resolves the pages once MongoDB is back and sends succeed; the still-burning tickets then reach the chat', async () => {
    const paged = receiver.alertsAt('/pager', 'firing').filter((l) => l.severity === 'critical');
    await side.stack.toxiproxy.enableProxy(side.stack.mongoProxy);
    // The breaker lets a trial send through after its reset time; then sends succeed again.
    await waitFor('a send to succeed again', async () => ((await send()) === 201 ? true : undefined), 30_000);
    // Users keep sending and reading: enough successes bring the short windows' error ratios under
    // both pages' thresholds (14.4x over 5m, 6x over 30m), while the longer windows still burn.
    const sends = new Load(send, { concurrency: 4 });
    const reads = new Load(readHistory, { concurrency: 4 });
    try {
      await waitFor(
        'every page to resolve at the pager',
        async () =>
          paged.every((page) =>
            receiver.alertsAt('/pager', 'resolved').some((l) => l.long_window === page.long_window),
          ) && !(await alertmanagerAlerts()).some((a) => a.labels.severity === 'critical')
            ? true
            : undefined,
        120_000,
      );
    } finally {
      await Promise.all([sends.stop(), reads.stop()]);
    }
    expect(paged.map((l) => l.long_window)).to.include(PAGE.longWindow);
    for (const recovery of [sends, reads])
      expect([...recovery.statuses.keys()], JSON.stringify([...recovery.statuses])).to.deep.equal([
        recovery === sends ? 201 : 200,
      ]);
    expect((await query(`slo:sli_error:ratio_rate5m{slo="${SLO}"}`))!).to.be.below(pageThreshold());
    expect((await prometheusAlerts()).filter((a) => a.labels.severity === 'critical')).to.deep.equal([]);

    // The budget is still being spent over the longer windows: the tickets stay, now unsuppressed.
    await waitFor('the tickets to reach the chat', () =>
      receiver.alertsAt('/chat', 'firing').some((l) => l.alertname === ALERT && l.severity === 'warning')
        ? true
        : undefined,
    );
    const tickets = (await alertmanagerAlerts()).filter((a) => a.labels.severity === 'warning');
    expect(tickets).to.not.be.empty;
    for (const ticket of tickets) {
      expect(ticket.status!.state, JSON.stringify(ticket.labels)).to.equal('active');
      expect(ticket.status!.inhibitedBy).to.deep.equal([]);
    }
    // Only this SLO ever alerted: the delivery and WebSocket SLOs saw no failure.
    expect(receiver.notifications.flatMap((n) => n.alerts).every((a) => a.labels.slo === SLO)).to.equal(true);
  });
});
