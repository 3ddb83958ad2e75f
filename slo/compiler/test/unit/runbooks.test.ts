// Every alert links to a runbook that exists and says what it means, how to confirm, what to do;
// and no runbook is left for an alert that no longer exists.
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileRuleGroups, DEFAULT_RUNBOOK_BASE_URL, type AlertingRule } from '../../src/index.js';
import { RUNBOOKS_DIR, repoSlos } from '../support/repo.js';

describe('docs/runbooks', () => {
  const alerts = compileRuleGroups(repoSlos())
    .flatMap((group) => group.rules)
    .filter((rule): rule is AlertingRule => 'alert' in rule);
  const names = [...new Set(alerts.map((alert) => alert.alert))];

  for (const name of names) {
    it(`${name}.md exists, is linked, and has the three sections`, () => {
      const path = join(RUNBOOKS_DIR, `${name}.md`);
      expect(existsSync(path), `missing ${path}`).to.equal(true);
      for (const alert of alerts.filter((a) => a.alert === name)) {
        expect(alert.annotations!.runbook_url).to.equal(`${DEFAULT_RUNBOOK_BASE_URL}${name}.md`);
      }
      const text = readFileSync(path, 'utf8');
      expect(text).to.match(new RegExp(`^# ${name}\\n`));
      for (const section of ['## What it means', '## Confirm on the dashboard', '## What to do']) {
        expect(text, `${name}.md needs "${section}"`).to.contain(section);
      }
    });
  }

  it('has no runbook for an alert that does not exist', () => {
    // Alert runbooks are named like the alert (PascalCase); procedures that no alert links to, such as
    // backup-restore.md, are lower-case kebab-case and not checked here.
    const files = readdirSync(RUNBOOKS_DIR).filter(
      (file) => file.endsWith('.md') && file !== 'README.md' && !/^[a-z0-9-]+\.md$/.test(file),
    );
    expect(
      files.map((file) => file.replace(/\.md$/, '')).filter((file) => !names.includes(file)),
    ).to.deep.equal([]);
  });
});
