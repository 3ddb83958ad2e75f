import { expect } from 'chai';
import {
  compileRuleGroups,
  parseSloDocuments,
  type AlertingRule,
  type RecordingRule,
  type RuleGroup,
  type SloSpec,
} from '../../src/index.js';

const DEFINITION = `
apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-availability
  displayName: API availability
spec:
  service: api
  indicator:
    metadata: { name: requests }
    spec:
      ratioMetric:
        counter: true
        bad: { metricSource: { type: Prometheus, spec: { query: 'x_requests_total{code=~"5.."}' } } }
        total: { metricSource: { type: Prometheus, spec: { query: x_requests_total } } }
  timeWindow: [{ duration: 28d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.999 }]
`;

const spec = (): SloSpec => parseSloDocuments(DEFINITION)[0]!;
const recordings = (group: RuleGroup): RecordingRule[] =>
  group.rules.filter((r): r is RecordingRule => 'record' in r);
const alerts = (group: RuleGroup): AlertingRule[] =>
  group.rules.filter((r): r is AlertingRule => 'alert' in r);
const recording = (group: RuleGroup, name: string): RecordingRule => {
  const found = recordings(group).find((r) => r.record === name);
  if (!found) throw new Error(`no recording rule ${name}`);
  return found;
};

describe('compileRuleGroups', () => {
  it('makes one group per SLO named after it', () => {
    const other = { ...spec(), name: 'other' };
    expect(compileRuleGroups([spec(), other]).map((g) => g.name)).to.deep.equal([
      'slo-api-availability',
      'slo-other',
    ]);
    expect(compileRuleGroups([spec()], { interval: '30s' })[0]!.interval).to.equal('30s');
  });

  it('refuses two SLOs with one name', () => {
    expect(() => compileRuleGroups([spec(), spec()])).to.throw(/two SLOs are named "api-availability"/);
  });

  it('records errors, totals and their ratio for every window up to the period, shortest first', () => {
    const [group] = compileRuleGroups([spec()]);
    const windows = recordings(group!)
      .map((r) => /^slo:sli_error:ratio_rate(.+)$/.exec(r.record)?.[1])
      .filter((w) => w !== undefined);
    expect(windows).to.deep.equal(['5m', '30m', '1h', '2h', '6h', '1d', '3d', '28d']);
    for (const window of windows) {
      expect(recordings(group!).map((r) => r.record)).to.include.members([
        `slo:sli_errors:rate${window}`,
        `slo:sli_total:rate${window}`,
      ]);
    }
  });

  it('reads windows up to 6h from the counters, zero when a counter has no series yet', () => {
    const [group] = compileRuleGroups([spec()]);
    expect(recording(group!, 'slo:sli_errors:rate6h').expr).to.equal(
      'sum(rate(x_requests_total{code=~"5.."}[6h])) or vector(0)',
    );
    expect(recording(group!, 'slo:sli_total:rate5m').expr).to.equal(
      'sum(rate(x_requests_total[5m])) or vector(0)',
    );
  });

  it('averages the recorded 5m rates for long windows, so ratios weigh events, not time', () => {
    const [group] = compileRuleGroups([spec()]);
    expect(recording(group!, 'slo:sli_errors:rate3d').expr).to.equal(
      'avg_over_time(slo:sli_errors:rate5m{slo="api-availability",service="api"}[3d])',
    );
    expect(recording(group!, 'slo:sli_total:rate28d').expr).to.equal(
      'avg_over_time(slo:sli_total:rate5m{slo="api-availability",service="api"}[28d])',
    );
  });

  it('divides only by a positive total, so no traffic leaves no ratio instead of NaN', () => {
    const [group] = compileRuleGroups([spec()]);
    expect(recording(group!, 'slo:sli_error:ratio_rate1h').expr).to.equal(
      'slo:sli_errors:rate1h{slo="api-availability",service="api"} / (slo:sli_total:rate1h{slo="api-availability",service="api"} > 0)',
    );
  });

  it('computes errors as total - good (never below 0) for good-counter SLIs, summing several counters; a missing good counter leaves no sample', () => {
    const slo = spec();
    slo.sli = {
      name: 'latency',
      total: [{ metric: 'a_count', matchers: [] }],
      good: [
        { metric: 'a_bucket', matchers: [{ name: 'le', op: '=', value: '0.5' }] },
        { metric: 'b_total', matchers: [] },
      ],
    };
    const [group] = compileRuleGroups([slo]);
    expect(recording(group!, 'slo:sli_errors:rate5m').expr).to.equal(
      'clamp_min((sum(rate(a_count[5m])) or vector(0)) - ((sum(rate(a_bucket{le="0.5"}[5m]))) + (sum(rate(b_total[5m])))), 0)',
    );
  });

  it('records the objective, budget, period and burn rates that stay 0 without traffic', () => {
    const [group] = compileRuleGroups([spec()]);
    const own = '{slo="api-availability",service="api"}';
    expect(recording(group!, 'slo:objective:ratio').expr).to.equal('vector(0.999)');
    expect(recording(group!, 'slo:error_budget:ratio').expr).to.equal('vector(0.001)');
    expect(recording(group!, 'slo:time_period:days').expr).to.equal('vector(28)');
    expect(recording(group!, 'slo:current_burn_rate:ratio').expr).to.equal(
      `(slo:sli_error:ratio_rate5m${own} / 0.001) or on() vector(0)`,
    );
    expect(recording(group!, 'slo:period_burn_rate:ratio').expr).to.equal(
      `(slo:sli_error:ratio_rate28d${own} / 0.001) or on() vector(0)`,
    );
    expect(recording(group!, 'slo:error_budget_remaining:ratio').expr).to.equal(
      `1 - slo:period_burn_rate:ratio${own}`,
    );
  });

  it('labels every recorded series with slo and service (and extra labels)', () => {
    const [group] = compileRuleGroups([spec()], { extraLabels: { chatcluster: 'prod' } });
    for (const rule of group!.rules) {
      expect(rule.labels, JSON.stringify(rule)).to.include({
        slo: 'api-availability',
        service: 'api',
        chatcluster: 'prod',
      });
    }
    expect(recording(group!, 'slo:sli_errors:rate1d').expr).to.contain(
      '{slo="api-availability",service="api",chatcluster="prod"}',
    );
  });

  it('adds matchLabels to the counters, not to the recorded series', () => {
    const [group] = compileRuleGroups([spec()], { matchLabels: { namespace: 'chat-prod' } });
    expect(recording(group!, 'slo:sli_errors:rate5m').expr).to.equal(
      'sum(rate(x_requests_total{code=~"5..",namespace="chat-prod"}[5m])) or vector(0)',
    );
    expect(recording(group!, 'slo:sli_errors:rate1d').expr).not.to.contain('namespace');
    const absent = alerts(group!).find((a) => a.alert === 'ApiAvailabilitySLIAbsent')!;
    expect(absent.expr).to.equal('absent(x_requests_total{namespace="chat-prod"})');
  });

  it('alerts on the four workbook window pairs, pages at 14.4x and 6x, tickets at 3x and 1x', () => {
    const [group] = compileRuleGroups([spec()]);
    const burn = alerts(group!).filter((a) => a.alert === 'ApiAvailabilityErrorBudgetBurn');
    expect(burn.map((a) => a.labels)).to.deep.equal([
      {
        slo: 'api-availability',
        service: 'api',
        severity: 'critical',
        long_window: '1h',
        short_window: '5m',
        burn_rate: '14.4',
      },
      {
        slo: 'api-availability',
        service: 'api',
        severity: 'critical',
        long_window: '6h',
        short_window: '30m',
        burn_rate: '6',
      },
      {
        slo: 'api-availability',
        service: 'api',
        severity: 'warning',
        long_window: '1d',
        short_window: '2h',
        burn_rate: '3',
      },
      {
        slo: 'api-availability',
        service: 'api',
        severity: 'warning',
        long_window: '3d',
        short_window: '6h',
        burn_rate: '1',
      },
    ]);
    const own = '{slo="api-availability",service="api"}';
    expect(burn[0]!.expr).to.equal(
      `slo:sli_error:ratio_rate1h${own} > (14.4 * 0.001)\nand\nslo:sli_error:ratio_rate5m${own} > (14.4 * 0.001)\n` +
        `and\nslo:sli_total:rate1h${own} * 3600 >= 20`,
    );
    expect(burn[0]!.for).to.equal(undefined);
  });

  it('guards against low traffic with the default, the option, or the SLO annotation; 0 turns it off', () => {
    const guardOf = (slo: SloSpec, minimumEvents?: number): string =>
      alerts(compileRuleGroups([slo], minimumEvents === undefined ? {} : { minimumEvents })[0]!)[0]!
        .expr.split('\n')
        .at(-1)!;
    expect(guardOf(spec())).to.match(/\* 3600 >= 20$/);
    expect(guardOf(spec(), 100)).to.match(/\* 3600 >= 100$/);
    expect(guardOf({ ...spec(), minimumEvents: 7 }, 100)).to.match(/\* 3600 >= 7$/);
    expect(guardOf(spec(), 0)).to.match(/ratio_rate5m\{.*\} > \(14.4 \* 0.001\)$/);
  });

  it('links each alert to its runbook under the base URL and says what it means', () => {
    const [group] = compileRuleGroups([spec()], { runbookBaseUrl: 'https://runbooks.example/' });
    for (const alert of alerts(group!)) {
      expect(alert.annotations!.runbook_url).to.equal(`https://runbooks.example/${alert.alert}.md`);
      expect(alert.annotations!.summary).to.contain('API availability');
    }
    const [page] = alerts(group!);
    expect(page!.annotations!.description).to.equal(
      'More than 1.44% of events failed the SLI over both the last 1h and the last 5m; the objective is 99.9% over 28d. ' +
        'At 14.4x the whole 28d budget lasts 47h.',
    );
    const [defaulted] = compileRuleGroups([spec()]);
    expect(alerts(defaulted!)[0]!.annotations!.runbook_url).to.equal(
      'https://github.com/chatcluster/chatcluster/blob/main/docs/runbooks/ApiAvailabilityErrorBudgetBurn.md',
    );
  });

  it('compiles alert conditions over their own lookback window, recording it when it is not standard', () => {
    const slo = spec();
    slo.conditions = [
      {
        alertName: 'ApiFast',
        description: 'Fast.',
        severity: 'warning',
        op: '>=',
        threshold: 2,
        lookbackWindow: '10m',
        alertAfter: '2m',
      },
    ];
    const [group] = compileRuleGroups([slo]);
    expect(recording(group!, 'slo:sli_errors:rate10m').expr).to.equal(
      'sum(rate(x_requests_total{code=~"5.."}[10m])) or vector(0)',
    );
    const fast = alerts(group!).find((a) => a.alert === 'ApiFast')!;
    expect(fast.expr).to.equal(
      'slo:sli_error:ratio_rate10m{slo="api-availability",service="api"} >= (2 * 0.001)\nand\n' +
        'slo:sli_total:rate10m{slo="api-availability",service="api"} * 600 >= 20',
    );
    expect(fast.for).to.equal('2m');
    expect(fast.labels).to.deep.equal({
      slo: 'api-availability',
      service: 'api',
      severity: 'warning',
      window: '10m',
      burn_rate: '2',
    });
    expect(() =>
      compileRuleGroups([
        { ...slo, conditions: [{ ...slo.conditions[0]!, alertName: 'ApiAvailabilitySLIAbsent' }] },
      ]),
    ).to.throw(/alert ApiAvailabilitySLIAbsent, which already exists/);
  });

  it('fires the absent alert when no total counter or any good counter is exported', () => {
    const slo = spec();
    slo.sli = {
      name: 'sum',
      total: [
        { metric: 'a_total', matchers: [] },
        { metric: 'b_total', matchers: [] },
      ],
      good: [{ metric: 'a_total', matchers: [] }],
    };
    const absent = alerts(compileRuleGroups([slo])[0]!).find((a) => a.alert === 'ApiAvailabilitySLIAbsent')!;
    expect(absent.expr).to.equal('(absent(a_total) and on() absent(b_total))\nor on()\nabsent(a_total)');
    expect(absent.for).to.equal('10m');
    expect(absent.labels).to.deep.equal({ slo: 'api-availability', service: 'api', severity: 'warning' });
    expect(alerts(compileRuleGroups([slo], { absentFor: '30m' })[0]!).at(-1)!.for).to.equal('30m');
  });

  it('puts every recording before the alerts that read it', () => {
    const [group] = compileRuleGroups([spec()]);
    const firstAlert = group!.rules.findIndex((r) => 'alert' in r);
    expect(group!.rules.slice(firstAlert).every((r) => 'alert' in r)).to.equal(true);
  });

  it('is deterministic and does not change its input', () => {
    const slo = spec();
    const before = structuredClone(slo);
    expect(compileRuleGroups([slo])).to.deep.equal(compileRuleGroups([slo]));
    expect(slo).to.deep.equal(before);
  });
});
