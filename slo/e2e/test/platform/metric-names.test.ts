// Metric-name drift against the running services: auth, message, notification and the operator run
// (with a little real traffic: a message that reaches a phone through notification), their /metrics
// pages are scraped, and every metric name that the SLO definitions, the committed rule files, the
// operator's PrometheusRule and AnalysisTemplates and the dashboards read must be exported by one of them
// (or recorded by the rules, or made by Prometheus). Families count from their `# TYPE` line, which a
// service prints from process start, so a labelled counter nothing has touched yet is not missed.
import { call, channelWith, signup } from '@chatcluster/message/testing';
import { fcmToken, settingsApi, type TestUser } from '@chatcluster/notification/testing';
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DefinitionFile, RuleGroup } from '@chatcluster/slo-compiler';
import {
  dashboardQueries,
  definitionUses,
  exportedNames,
  operatorObjects,
  recordedNames,
  ruleFileGroups,
  ruleQueries,
  unexported,
  usesOf,
  type MetricUse,
} from '../support/metric-names.js';
import { platform, runningServices, type RunningService } from '../support/platform.js';
import { DASHBOARDS_DIR, DEFINITIONS_DIR, PRODUCTION_EXAMPLE, RULES_DIR } from '../support/repo.js';

const filesIn = (dir: string, extension: RegExp): { name: string; text: string }[] =>
  readdirSync(dir)
    .filter((name) => extension.test(name))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));

const definitionFiles = (): DefinitionFile[] =>
  filesIn(DEFINITIONS_DIR, /\.ya?ml$/).map(({ name, text }) => ({ path: `slo/definitions/${name}`, text }));

const listed = (uses: MetricUse[]): string[] => uses.map(({ where, name }) => `${where}: ${name}`);

describe('metric names read by the SLOs, rules, dashboards and analysis templates, against the running services', function () {
  this.timeout(120_000);
  /** Service name -> the names its /metrics exports. */
  const exports = new Map<RunningService['name'], Set<string>>();
  let everything: Set<string>;
  let ruleGroups: RuleGroup[];
  let operator: ReturnType<typeof operatorObjects>;
  let recorded: Set<string>;

  before(async function () {
    this.timeout(180_000);
    const p = await platform();
    // A little traffic through every service: sign-ups and a channel (auth), a device (notification),
    // a message (message), which notification pushes to the member through the FCM stand-in.
    const [alice, bob] = await Promise.all([
      signup(p.stack.auth.url, 'alice'),
      signup(p.stack.auth.url, 'bob'),
    ]);
    const channel = await channelWith(p.stack.auth.url, alice, [bob]);
    const device = fcmToken('bob');
    await settingsApi(p.notification.url, { accessToken: bob.token } as TestUser).registerDevice(device);
    const sent = await call<{ message: { id: string } }>(p.message.url, 'POST', '/api/v1/messages', {
      body: { channelId: channel, clientMessageId: 'metric-names-1', body: 'hello' },
      token: alice.token,
    });
    expect(sent.status, JSON.stringify(sent.body)).to.equal(201);
    await p.fcm.waitFor(
      () => p.fcm.sends().some((s) => s.token === device && s.messageId === sent.body.message.id),
      30_000,
      'the push of the message to bob',
    );

    for (const service of runningServices(p)) {
      const response = await fetch(`${service.url}/metrics`);
      expect(response.status, `${service.name} /metrics`).to.equal(200);
      exports.set(service.name, exportedNames(await response.text()));
    }
    everything = new Set([...exports.values()].flatMap((names) => [...names]));
    ruleGroups = filesIn(RULES_DIR, /\.ya?ml$/).flatMap(({ text }) => ruleFileGroups(text));
    operator = operatorObjects(readFileSync(PRODUCTION_EXAMPLE, 'utf8'));
    recorded = recordedNames([...ruleGroups, ...operator.ruleGroups]);
  });

  it('scrapes each service, and each exports its own families', () => {
    for (const [service, names] of exports) {
      expect(
        [...names].filter((name) => name.startsWith(`chat_${service}_`)),
        service,
      ).to.include(`chat_${service}_http_requests_total`);
    }
  });

  it("the SLO definitions: each SLI's counters are exported by the SLO's own service", () => {
    const uses = definitionUses(definitionFiles());
    expect(uses.length).to.be.greaterThan(5);
    const wrong = uses.filter(
      ({ name, service }) => !exports.get(service as RunningService['name'])?.has(name),
    );
    expect(listed(wrong)).to.deep.equal([]);
  });

  it('the committed rule files (slo/generated/rules)', () => {
    const uses = usesOf(ruleQueries('slo/generated/rules', ruleGroups));
    expect(uses.length).to.be.greaterThan(100);
    expect(listed(unexported(uses, everything, recorded))).to.deep.equal([]);
  });

  it("the operator's PrometheusRule and AnalysisTemplates (examples/chatcluster-production.yaml)", () => {
    const analysis = usesOf(operator.analysisQueries);
    // Per component: the canary health checks (error rate, p95 latency) and one gate per SLO.
    expect(new Set(operator.analysisQueries.map((q) => q.where.split(':')[0])).size).to.equal(8);
    const rules = usesOf(ruleQueries('PrometheusRule', operator.ruleGroups));
    expect(rules.length).to.be.greaterThan(100);
    expect(listed(unexported([...analysis, ...rules], everything, recorded))).to.deep.equal([]);
  });

  it('the dashboards (dashboards/json)', () => {
    const uses = filesIn(DASHBOARDS_DIR, /\.json$/).flatMap(({ name, text }) =>
      usesOf(dashboardQueries(name, text)),
    );
    expect(new Set(uses.map((u) => u.name)).size).to.be.greaterThan(30);
    expect(listed(unexported(uses, everything, recorded))).to.deep.equal([]);
  });

  it('fails on a drifted name: a renamed counter in a definition copy, a typo in a dashboard query', () => {
    const files = definitionFiles().map((file) =>
      file.path.endsWith('/message-api-availability.yaml')
        ? {
            ...file,
            text: file.text.replaceAll('chat_message_http_requests_total', 'chat_message_requests_total'),
          }
        : file,
    );
    expect(listed(unexported(definitionUses(files), everything, recorded))).to.deep.equal([
      'SLO message-api-availability: chat_message_requests_total',
      'SLO message-api-availability: chat_message_requests_total',
    ]);
    const board = JSON.stringify({
      panels: [
        {
          title: 'Deliveries',
          targets: [{ expr: 'sum(rate(chat_message_delivery_total[$__rate_interval]))' }],
        },
      ],
      templating: { list: [] },
    });
    expect(
      listed(unexported(usesOf(dashboardQueries('copy.json', board)), everything, recorded)),
    ).to.deep.equal(['copy.json: Deliveries: chat_message_delivery_total']);
  });
});
