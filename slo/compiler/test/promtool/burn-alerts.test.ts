// For every SLO in slo/definitions: synthetic traffic scenarios run through the committed rule file
// with `promtool test rules`, and the alerts that fire must be those the workbook model predicts.
import { expect } from 'chai';
import { join } from 'node:path';
import {
  DEFAULT_ABSENT_FOR,
  DEFAULT_MINIMUM_EVENTS,
  absentAlertName,
  burnAlertName,
  formatNumber,
  parseDuration,
  type SloSpec,
} from '../../src/index.js';
import { TrafficModel, type ExpectedAlert, type ModelSlo, type Phase } from '../support/burn-model.js';
import { runScenario, readRuleFile, type AlertCheck, type ValueCheck } from '../support/promtool-unit.js';
import { GENERATED_DIR, repoSlos } from '../support/repo.js';
import { SYNTHETIC_TRAFFIC, unrelatedSeries } from '../support/synthetic-series.js';

const R = 1000; // events per minute of healthy traffic

function modelOf(slo: SloSpec): ModelSlo {
  return {
    name: slo.name,
    service: slo.service,
    budget: Number((1 - slo.objective).toPrecision(12)),
    periodMinutes: parseDuration(slo.period)! / 60,
    minimumEvents: slo.minimumEvents ?? DEFAULT_MINIMUM_EVENTS,
    absentForMinutes: parseDuration(DEFAULT_ABSENT_FOR)! / 60,
    burnAlertName: burnAlertName(slo.name),
    absentAlertName: absentAlertName(slo.name),
    conditions: slo.conditions.map((c) => ({
      alertName: c.alertName,
      severity: c.severity,
      op: c.op,
      threshold: c.threshold,
      windowMinutes: parseDuration(c.lookbackWindow)! / 60,
      forMinutes: parseDuration(c.alertAfter)! / 60,
      labels: { window: c.lookbackWindow, burn_rate: formatNumber(c.threshold) },
    })),
  };
}

const pages = (alerts: ExpectedAlert[]): ExpectedAlert[] =>
  alerts.filter((a) => a.labels.severity === 'critical');

interface Scenario {
  title: string;
  phases: Phase[];
  exported?: boolean;
  checkpoints: number[];
  /** Asserts the model's predictions say what the title claims, so a scenario cannot pass vacuously. */
  intent: (at: (minute: number) => ExpectedAlert[]) => void;
  values?: ValueCheck[];
}

function scenarios(slo: SloSpec, model: ModelSlo): Scenario[] {
  const b = model.budget;
  const own = { slo: slo.name, service: slo.service };
  const period = model.periodMinutes;
  const list: Scenario[] = [];

  // Fast burn: 20x the budget after 6 healthy hours. The workbook pages when the 1h ratio passes
  // 14.4x: 60 * 14.4 / 20 = 43.2 minutes in.
  {
    const phases = [
      { minutes: 360, eventsPerMinute: R, burn: 0 },
      { minutes: 90, eventsPerMinute: R, burn: 20 },
    ];
    const traffic = new TrafficModel(model, phases);
    const onset = 360 + Math.ceil((60 * 14.4) / 20);
    list.push({
      title: `a 20x burn pages (1h/5m) ${onset - 360} minutes in, and not 4 minutes earlier`,
      phases,
      checkpoints: [onset - 4, onset + 3],
      intent: (at) => {
        expect(pages(at(onset - 4))).to.deep.equal([]);
        expect(pages(at(onset + 3)).map((a) => a.labels.long_window)).to.deep.equal(['1h']);
      },
      values: [
        {
          minute: onset + 3,
          expr: `slo:sli_error:ratio_rate1h{slo="${slo.name}"}`,
          labels: own,
          expected: traffic.ratio(60, onset + 3)!,
        },
        {
          minute: onset + 3,
          expr: `slo:current_burn_rate:ratio{slo="${slo.name}"}`,
          labels: own,
          expected: 20,
        },
      ],
    });
  }

  // Slow burn: 4x after a healthy day. Tickets (3d/6h after ~8h, 1d/2h after 18h), never a page.
  list.push({
    title: 'a 4x burn opens tickets (3d/6h after 8h, 1d/2h after 18h) and never pages',
    phases: [
      { minutes: 1440, eventsPerMinute: R, burn: 0 },
      { minutes: 1200, eventsPerMinute: R, burn: 4 },
    ],
    checkpoints: [1440 + 420, 1440 + 540, 1440 + 1000, 1440 + 1140],
    intent: (at) => {
      const burn = (minute: number): ExpectedAlert[] =>
        at(minute).filter((a) => a.alertname === model.burnAlertName);
      for (const minute of [1860, 1980, 2440, 2580]) expect(pages(at(minute))).to.deep.equal([]);
      expect(burn(1860)).to.deep.equal([]);
      expect(burn(1980).map((a) => a.labels.long_window)).to.deep.equal(['3d']);
      expect(burn(2580).map((a) => a.labels.long_window)).to.deep.equal(['1d', '3d']);
    },
  });

  list.push({
    title: 'a 0.9x burn (under budget) fires nothing for 12 hours',
    phases: [{ minutes: 720, eventsPerMinute: R, burn: 0.9 }],
    checkpoints: [60, 180, 360, 720],
    intent: (at) => [60, 180, 360, 720].forEach((minute) => expect(at(minute)).to.deep.equal([])),
  });

  list.push({
    title: 'zero traffic fires nothing, leaves the budget whole and the burn rate at 0 (no NaN)',
    phases: [{ minutes: 180, eventsPerMinute: 0, burn: 0 }],
    checkpoints: [30, 90, 180],
    intent: (at) => [30, 90, 180].forEach((minute) => expect(at(minute)).to.deep.equal([])),
    values: [
      { minute: 180, expr: `slo:error_budget_remaining:ratio{slo="${slo.name}"}`, labels: own, expected: 1 },
      { minute: 180, expr: `slo:current_burn_rate:ratio{slo="${slo.name}"}`, labels: own, expected: 0 },
      { minute: 180, expr: `slo:period_burn_rate:ratio{slo="${slo.name}"}`, labels: own, expected: 0 },
      { minute: 180, expr: `slo:sli_error:ratio_rate5m{slo="${slo.name}"}`, labels: own, expected: 'absent' },
      {
        minute: 180,
        expr: `slo:sli_error:ratio_rate${slo.period}{slo="${slo.name}"}`,
        labels: own,
        expected: 'absent',
      },
    ],
  });

  {
    const phases = [
      { minutes: 60, eventsPerMinute: R, burn: 0 },
      { minutes: 20, eventsPerMinute: R, burn: 20 },
      { minutes: 120, eventsPerMinute: 0, burn: 0 },
    ];
    const traffic = new TrafficModel(model, phases);
    list.push({
      title: 'when traffic stops after a burn, nothing pages and the budget stays a number',
      phases,
      checkpoints: [120, 199],
      intent: (at) => [120, 199].forEach((minute) => expect(pages(at(minute))).to.deep.equal([])),
      values: [
        {
          minute: 199,
          expr: `slo:error_budget_remaining:ratio{slo="${slo.name}"}`,
          labels: own,
          expected: 1 - traffic.ratio(period, 199)! / b,
        },
        { minute: 199, expr: `slo:current_burn_rate:ratio{slo="${slo.name}"}`, labels: own, expected: 0 },
      ],
    });
  }

  list.push({
    title: `every event failing at 6 events an hour does not page (minimum-traffic guard of ${model.minimumEvents})`,
    phases: [{ minutes: 200, eventsPerMinute: 0.1, burn: 1 / b }],
    checkpoints: [60, 120, 180],
    intent: (at) => [60, 120, 180].forEach((minute) => expect(pages(at(minute))).to.deep.equal([])),
  });

  list.push({
    title: `the SLI's counters missing fires ${model.absentAlertName} after ${DEFAULT_ABSENT_FOR}`,
    phases: [{ minutes: 20, eventsPerMinute: 0, burn: 0 }],
    exported: false,
    checkpoints: [8, 12],
    intent: (at) => {
      expect(at(8)).to.deep.equal([]);
      expect(at(12).map((a) => a.alertname)).to.deep.equal([model.absentAlertName]);
    },
  });

  {
    // Uneven traffic: a busy healthy half day, then a quiet one with half the events failing. The
    // day's ratio is errors / events (~1 %); a mean of ratios would say ~25 %.
    const phases = [
      { minutes: 720, eventsPerMinute: R, burn: 0 },
      { minutes: 720, eventsPerMinute: 20, burn: 0.5 / b },
    ];
    const traffic = new TrafficModel(model, phases);
    const exact = traffic.ratio(1440, 1440)!;
    list.push({
      title: `under uneven traffic the 1d and ${slo.period} ratios weigh events, not time (${(exact * 100).toFixed(2)} %)`,
      phases,
      checkpoints: [1440],
      intent: () => expect(exact).to.be.within(0.009, 0.011),
      values: [
        { minute: 1440, expr: `slo:sli_error:ratio_rate1d{slo="${slo.name}"}`, labels: own, expected: exact },
        {
          minute: 1440,
          expr: `slo:sli_error:ratio_rate${slo.period}{slo="${slo.name}"}`,
          labels: own,
          expected: traffic.ratio(period, 1440)!,
        },
      ],
    });
  }

  {
    const phases = [
      { minutes: 360, eventsPerMinute: R, burn: 0 },
      { minutes: 20, eventsPerMinute: R, burn: 2 },
    ];
    const names = model.conditions.map((c) => c.alertName);
    list.push({
      title:
        names.length > 0
          ? `a 2x burn for a few minutes fires ${names.join(', ')} within 8 minutes and pages nobody`
          : 'a 2x burn for a few minutes fires nothing',
      phases,
      checkpoints: [362, 368],
      intent: (at) => {
        expect(at(362)).to.deep.equal([]);
        expect(at(368).map((a) => a.alertname)).to.deep.equal(names);
        expect(pages(at(368))).to.deep.equal([]);
      },
    });
  }
  return list;
}

for (const slo of repoSlos()) {
  describe(`SLO ${slo.name}: alerts on synthetic traffic (promtool test rules)`, function () {
    this.timeout(180_000);
    const ruleFile = join(GENERATED_DIR, 'rules', `${slo.name}.rules.yml`);
    const model = modelOf(slo);

    for (const scenario of scenarios(slo, model)) {
      it(scenario.title, () => {
        const build = SYNTHETIC_TRAFFIC[slo.name];
        if (!build)
          throw new Error(
            `no synthetic traffic for SLO ${slo.name}: add it to test/support/synthetic-series.ts`,
          );
        const traffic = new TrafficModel(model, scenario.phases, scenario.exported ?? true);
        const at = (minute: number): ExpectedAlert[] => traffic.expectedAt(minute);
        scenario.intent(at);

        const alertNames = [
          ...new Set(
            readRuleFile(ruleFile)
              .flatMap((group) => group.rules)
              .flatMap((rule) => ('alert' in rule ? [rule.alert] : [])),
          ),
        ];
        const checks: AlertCheck[] = scenario.checkpoints.flatMap((minute) => {
          const expected = at(minute);
          return alertNames.map((alertname) => ({
            minute,
            alertname,
            expected: expected.filter((alert) => alert.alertname === alertname),
          }));
        });
        const series =
          scenario.exported === false
            ? unrelatedSeries(traffic.durationMinutes)
            : build(scenario.phases, model.budget);
        const result = runScenario(ruleFile, series, checks, scenario.values);
        expect(result.status, result.output).to.equal(0);
      });
    }
  });
}
