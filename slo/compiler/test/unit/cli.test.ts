// The chatcluster-slo CLI, run as a process: writes the outputs, reports staleness with --check.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateOutputs } from '../../src/index.js';
import { DEFINITIONS_DIR, definitionFiles } from '../support/repo.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('chatcluster-slo', () => {
  let out: string;
  beforeEach(() => (out = mkdtempSync(join(tmpdir(), 'slo-cli-'))));
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it('writes the generated files, then --check finds them up to date', () => {
    const written = run('--definitions', DEFINITIONS_DIR, '--out', out);
    expect(written.status, written.stderr).to.equal(0);
    for (const [relative, text] of generateOutputs(definitionFiles())) {
      expect(readFileSync(join(out, relative), 'utf8')).to.equal(text);
    }
    const checked = run('--definitions', DEFINITIONS_DIR, '--out', out, '--check');
    expect(checked.status, checked.stderr).to.equal(0);
  });

  it('--check fails naming a changed file and a leftover one, and a write removes the leftover', () => {
    run('--definitions', DEFINITIONS_DIR, '--out', out);
    writeFileSync(join(out, 'alertmanager.yml'), 'edited by hand\n');
    writeFileSync(join(out, 'rules', 'removed-slo.rules.yml'), 'groups: []\n');
    const checked = run('--definitions', DEFINITIONS_DIR, '--out', out, '--check');
    expect(checked.status).to.equal(1);
    expect(checked.stderr).to.contain('alertmanager.yml').and.to.contain('rules/removed-slo.rules.yml');
    expect(run('--definitions', DEFINITIONS_DIR, '--out', out).status).to.equal(0);
    expect(existsSync(join(out, 'rules', 'removed-slo.rules.yml'))).to.equal(false);
  });

  it('names the file and field of a broken definition and exits 1', () => {
    const definitions = mkdtempSync(join(tmpdir(), 'slo-defs-'));
    try {
      writeFileSync(
        join(definitions, 'broken.yaml'),
        'apiVersion: openslo/v1\nkind: SLO\nmetadata: { name: x }\nspec: {}\n',
      );
      const result = run('--definitions', definitions, '--out', out);
      expect(result.status).to.equal(1);
      expect(result.stderr).to.match(
        /broken\.yaml: SLO "x" \(document 1\): spec\.service must be a non-empty string/,
      );
    } finally {
      rmSync(definitions, { recursive: true, force: true });
    }
  });

  it('prints usage and exits 2 without the folders', () => {
    const result = run();
    expect(result.status).to.equal(2);
    expect(result.stderr).to.contain('usage: chatcluster-slo');
  });
});
