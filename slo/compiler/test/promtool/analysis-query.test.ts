// The canary's burn-rate query evaluated by promtool on synthetic traffic: the number Argo reads.
import { expect } from 'chai';
import { burnRateQuery } from '../../src/index.js';
import { runScenario } from '../support/promtool-unit.js';
import { GENERATED_DIR, repoSlos } from '../support/repo.js';
import { SYNTHETIC_TRAFFIC } from '../support/synthetic-series.js';
import { join } from 'node:path';

describe('AnalysisTemplate burn-rate query (promtool test rules)', function () {
  this.timeout(60_000);

  for (const slo of repoSlos()) {
    it(`${slo.name}: 0 without traffic, the burn factor during a burn, one sample, never NaN`, () => {
      const budget = Number((1 - slo.objective).toPrecision(12));
      const phases = [
        { minutes: 30, eventsPerMinute: 0, burn: 0 },
        { minutes: 30, eventsPerMinute: 1000, burn: 0.5 },
        { minutes: 30, eventsPerMinute: 1000, burn: 10 },
      ];
      const query = burnRateQuery(slo, '5m');
      const ruleFile = join(GENERATED_DIR, 'rules', `${slo.name}.rules.yml`);
      const result = runScenario(
        ruleFile,
        SYNTHETIC_TRAFFIC[slo.name]!(phases, budget),
        [],
        [
          { minute: 25, expr: query, labels: {}, expected: 0 },
          { minute: 55, expr: query, labels: {}, expected: 0.5 },
          { minute: 85, expr: query, labels: {}, expected: 10 },
        ],
      );
      expect(result.status, result.output).to.equal(0);
    });
  }
});
