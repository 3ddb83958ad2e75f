// The dashboards as Grafana will load them: committed JSON up to date, stable uids, one datasource
// variable, a unit on every panel, $__rate_interval in every rate, and only promised metric names.
import { compileRuleGroups } from '@chatcluster/slo-compiler';
import { contractCovers, parseMetricContract, promqlMetricNames } from '@chatcluster/slo-compiler/contract';
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { allDashboards, dashboardFiles } from '../../src/index.js';
import { ARCHITECTURE_DOC, JSON_DIR, queriesOf, repoSlos } from '../support/repo.js';

/** Metrics Prometheus itself provides. */
const PROMETHEUS_BUILT_INS = new Set(['ALERTS']);

describe('dashboards', () => {
  const boards = allDashboards();

  it('are the five of the SLO issue, under stable uids', () => {
    expect(boards.map((b) => b.uid)).to.deep.equal([
      'chatcluster-overview',
      'chatcluster-websockets',
      'chatcluster-slos',
      'chatcluster-dependencies',
      'chatcluster-operator',
    ]);
  });

  it('are committed under dashboards/json exactly as generated', () => {
    const files = dashboardFiles();
    const regenerate = 'run `npm run build && npm run generate -w @chatcluster/dashboards`';
    expect(readdirSync(JSON_DIR).sort(), regenerate).to.deep.equal([...files.keys()].sort());
    for (const [name, text] of files) {
      expect(readFileSync(join(JSON_DIR, name), 'utf8') === text, `${name} is stale: ${regenerate}`).to.equal(
        true,
      );
    }
  });

  for (const board of allDashboards()) {
    describe(board.uid, () => {
      const panels = board.panels.filter((panel) => panel.type !== 'row');

      it('has exactly one datasource variable, named datasource, and every query uses it', () => {
        const sources = board.templating.list.filter((variable) => variable.type === 'datasource');
        expect(sources.map((v) => [v.name, v.query])).to.deep.equal([['datasource', 'prometheus']]);
        for (const variable of board.templating.list.filter((v) => v.type === 'query')) {
          expect(variable.datasource, String(variable.name)).to.deep.equal({
            type: 'prometheus',
            uid: '${datasource}',
          });
        }
        for (const panel of panels) {
          expect(panel.datasource, panel.title).to.deep.equal({ type: 'prometheus', uid: '${datasource}' });
          for (const target of panel.targets ?? [])
            expect(target.datasource.uid, panel.title).to.equal('${datasource}');
        }
      });

      it('gives every panel a unit and at least one query', () => {
        for (const panel of panels) {
          const unit = panel.fieldConfig?.defaults.unit;
          expect(unit, `${panel.title} has no unit`).to.be.a('string').and.not.equal('');
          expect(panel.targets, panel.title).to.have.length.greaterThan(0);
        }
      });

      it('uses $__rate_interval for every range', () => {
        for (const { panel, expr } of queriesOf(board)) {
          const ranges = expr.match(/\[[^\]]*\]/g) ?? [];
          expect(
            ranges.filter((range) => range !== '[$__rate_interval]'),
            `${panel}: ${expr}`,
          ).to.deep.equal([]);
          if (/\b(?:rate|irate|increase)\(/.test(expr)) expect(ranges, `${panel}: ${expr}`).not.to.be.empty;
        }
      });

      it('has unique panel ids and panels that fit the 24-column grid without overlapping', () => {
        const ids = board.panels.map((panel) => panel.id);
        expect(new Set(ids).size).to.equal(ids.length);
        const cells = new Set<string>();
        for (const { gridPos, title } of board.panels) {
          expect(gridPos.x + gridPos.w, title).to.be.at.most(24);
          for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
            for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
              expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).to.equal(false);
              cells.add(`${x},${y}`);
            }
          }
        }
      });
    });
  }

  it('read only metrics the architecture promises, the SLO rules record, or Prometheus provides', () => {
    const contract = parseMetricContract(readFileSync(ARCHITECTURE_DOC, 'utf8'));
    const recorded = new Set(
      compileRuleGroups(repoSlos())
        .flatMap((group) => group.rules)
        .flatMap((rule) => ('record' in rule ? [rule.record] : [])),
    );
    const used = boards
      .flatMap(queriesOf)
      .flatMap((q) => promqlMetricNames(q.expr).map((name) => ({ ...q, name })));
    const unknown = used.filter(
      ({ name }) => !contractCovers(contract, name) && !recorded.has(name) && !PROMETHEUS_BUILT_INS.has(name),
    );
    expect(unknown.map((u) => `${u.dashboard} / ${u.panel}: ${u.name}`)).to.deep.equal([]);
    expect(new Set(used.map((u) => u.name)).size).to.be.greaterThan(30);
  });
});
