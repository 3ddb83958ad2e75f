// slo/generated is committed (make dev and reviewers read it); it must be what the compiler makes
// of slo/definitions today.
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generateOutputs, type AlertingRule, type RuleGroup } from '../../src/index.js';
import { contractCovers, parseMetricContract, promqlMetricNames } from '../../src/contract.js';
import { ARCHITECTURE_DOC, GENERATED_DIR, definitionFiles } from '../support/repo.js';

const REGENERATE = 'run `npm run build && npm run generate -w @chatcluster/slo-compiler`';

describe('slo/generated', () => {
  const outputs = generateOutputs(definitionFiles());

  it('holds exactly the files the compiler generates', () => {
    const committed = [
      ...readdirSync(join(GENERATED_DIR, 'rules')).map((name) => `rules/${name}`),
      ...readdirSync(GENERATED_DIR).filter((n) => n !== 'rules'),
    ];
    expect(committed.sort(), REGENERATE).to.deep.equal([...outputs.keys()].sort());
  });

  for (const [relative, text] of generateOutputs(definitionFiles())) {
    it(`${relative} is up to date`, () => {
      expect(
        readFileSync(join(GENERATED_DIR, relative), 'utf8') === text,
        `${relative} is stale: ${REGENERATE}`,
      ).to.equal(true);
    });
  }

  it('reads only contract metrics and its own recordings in every expression', () => {
    const contract = parseMetricContract(readFileSync(ARCHITECTURE_DOC, 'utf8'));
    const groups = [...outputs]
      .filter(([path]) => path.startsWith('rules/'))
      .flatMap(([, text]) => (parse(text) as { groups: RuleGroup[] }).groups);
    const rules = groups.flatMap((g) => g.rules);
    const recorded = new Set(rules.flatMap((r) => ('record' in r ? [r.record] : [])));
    const unknown = rules
      .flatMap((r) => promqlMetricNames(r.expr))
      .filter((name) => !recorded.has(name) && !contractCovers(contract, name));
    expect(unknown).to.deep.equal([]);
    expect(rules.filter((r): r is AlertingRule => 'alert' in r)).to.have.length.greaterThan(5);
  });
});
