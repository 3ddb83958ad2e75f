// A good counter that goes missing (a histogram bucket renamed or dropped from the bucket list) must
// not read as every event failing: no burn alert fires, and the SLI's absent alert says why. Run for
// every SLO of slo/definitions that counts good events, on its synthetic traffic minus the good series.
import { expect } from 'chai';
import { join } from 'node:path';
import { absentAlertName, burnAlertName, DEFAULT_ABSENT_FOR, parseDuration } from '../../src/index.js';
import { parseSelector } from '../../src/selector.js';
import type { Selector } from '../../src/types.js';
import { readRuleFile, runScenario, type AlertCheck } from '../support/promtool-unit.js';
import { GENERATED_DIR, repoSlos } from '../support/repo.js';
import { SYNTHETIC_TRAFFIC, type InputSeries } from '../support/synthetic-series.js';

/** Whether an input series (`metric{label="value",...}`) is selected by `selector` (= matchers only). */
function selects(selector: Selector, series: InputSeries): boolean {
  const parsed = parseSelector(series.series);
  if (parsed.metric !== selector.metric) return false;
  return selector.matchers.every((matcher) => {
    if (matcher.op !== '=') throw new Error(`good selectors here use = only, got ${matcher.op}`);
    return parsed.matchers.some((m) => m.name === matcher.name && m.value === matcher.value);
  });
}

const goodSlos = repoSlos().filter((slo) => slo.sli.good);

describe('a missing good series (promtool test rules)', function () {
  this.timeout(60_000);

  it('applies to at least one committed SLO', () => expect(goodSlos).to.not.be.empty);

  for (const slo of goodSlos) {
    for (const good of slo.sli.good!) {
      it(`${slo.name}: without ${good.metric}${JSON.stringify(good.matchers.map((m) => m.value))}, no burn alert, ${absentAlertName(slo.name)} after ${DEFAULT_ABSENT_FOR}`, () => {
        const budget = Number((1 - slo.objective).toPrecision(12));
        // Healthy traffic at 1000 events a minute, as the services would export it.
        const all = SYNTHETIC_TRAFFIC[slo.name]!([{ minutes: 90, eventsPerMinute: 1000, burn: 0 }], budget);
        const series = all.filter((s) => !selects(good, s));
        expect(all.length - series.length, 'the synthetic traffic has the good series').to.equal(1);

        const ruleFile = join(GENERATED_DIR, 'rules', `${slo.name}.rules.yml`);
        const alertNames = [
          ...new Set(
            readRuleFile(ruleFile)
              .flatMap((group) => group.rules)
              .flatMap((rule) => ('alert' in rule ? [rule.alert] : [])),
          ),
        ];
        expect(alertNames).to.include(burnAlertName(slo.name));
        const absentAfter = parseDuration(DEFAULT_ABSENT_FOR)! / 60;
        const own = { slo: slo.name, service: slo.service };
        // absent() of a selector carries its equality matchers as labels: the alert names the bucket.
        const absentLabels = Object.fromEntries(good.matchers.map((m) => [m.name, m.value]));
        // Before the absent alert's `for:`, then long after: the 1h/5m page would have fired a
        // minute in when a missing bucket counted every delivery as late.
        const checks: AlertCheck[] = [2, absentAfter - 2, absentAfter + 2, 85].flatMap((minute) =>
          alertNames.map((alertname) => ({
            minute,
            alertname,
            expected:
              alertname === absentAlertName(slo.name) && minute > absentAfter
                ? [{ alertname, labels: { ...own, ...absentLabels, severity: 'warning' } }]
                : [],
          })),
        );
        const result = runScenario(ruleFile, series, checks, [
          {
            minute: 85,
            expr: `slo:sli_error:ratio_rate1h{slo="${slo.name}"}`,
            labels: own,
            expected: 'absent',
          },
          { minute: 85, expr: `slo:current_burn_rate:ratio{slo="${slo.name}"}`, labels: own, expected: 0 },
        ]);
        expect(result.status, result.output).to.equal(0);
      });
    }
  }
});
