// Every dashboard query parses in Prometheus: each becomes a recording rule (Grafana variables
// replaced by plain values) and `promtool check rules` reads them.
import { locateBinary } from '@chatcluster/harness';
import { toRuleFileYaml } from '@chatcluster/slo-compiler';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allDashboards } from '../../src/index.js';
import { queriesOf, substituteVariables } from '../support/repo.js';

function checkRules(exprs: string[]): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dashboards-promtool-'));
  try {
    const file = join(dir, 'queries.yml');
    const rules = exprs.map((expr, index) => ({ record: `dashboard:query_${index}:check`, expr }));
    writeFileSync(file, toRuleFileYaml([{ name: 'dashboard-queries', rules }]));
    const result = spawnSync(locateBinary('promtool'), ['check', 'rules', file], { encoding: 'utf8' });
    if (result.error) throw result.error;
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('dashboard queries (promtool check rules)', function () {
  this.timeout(60_000);

  for (const board of allDashboards()) {
    it(`${board.uid}: every query parses`, () => {
      const queries = queriesOf(board);
      const result = checkRules(queries.map((q) => substituteVariables(q.expr)));
      expect(result.status, result.output).to.equal(0);
      expect(result.output).to.contain(`SUCCESS: ${queries.length} rules found`);
    });
  }

  it('rejects a query that does not parse, so the checks above can fail', () => {
    expect(checkRules(['sum(rate(x[5m])']).status).to.not.equal(0);
  });
});
