// The readiness-degraded alert: generated with the SLO rules, scoped like them by the operator, and
// linked to a runbook that says what it means, how to confirm, what to do.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_RUNBOOK_BASE_URL,
  READINESS_ALERT,
  READINESS_RUNBOOK,
  generateOutputs,
  readinessRuleGroup,
  type AlertingRule,
} from '../../src/index.js';
import { RUNBOOKS_DIR, definitionFiles } from '../support/repo.js';

const alertOf = (group: ReturnType<typeof readinessRuleGroup>): AlertingRule =>
  group.rules.find((r): r is AlertingRule => 'alert' in r)!;

describe('the readiness-degraded alert', () => {
  it('is generated next to the SLO rules, for auth, message and notification, after 5 minutes', () => {
    const text = generateOutputs(definitionFiles()).get('rules/readiness.rules.yml');
    expect(text).to.be.a('string');
    const alert = alertOf(readinessRuleGroup());
    expect(alert.alert).to.equal(READINESS_ALERT);
    expect(alert.for).to.equal('5m');
    expect(alert.labels).to.deep.equal({ severity: 'warning' });
    for (const service of ['auth', 'message', 'notification'])
      expect(alert.expr).to.contain(`(chat_${service}_readiness_check_ok)`);
  });

  it('scopes each service to its own series and adds labels, as the operator needs', () => {
    const alert = alertOf(
      readinessRuleGroup({
        matchLabels: (service) => ({ namespace: 'chat', service: `prod-${service}` }),
        extraLabels: { chatcluster: 'prod' },
        runbookBaseUrl: 'https://runbooks.example/',
      }),
    );
    expect(alert.expr).to.contain('chat_auth_readiness_check_ok{namespace="chat",service="prod-auth"}');
    expect(alert.labels).to.deep.equal({ severity: 'warning', chatcluster: 'prod' });
    expect(alert.annotations!.runbook_url).to.equal(`https://runbooks.example/${READINESS_RUNBOOK}`);
  });

  it(`links ${READINESS_RUNBOOK}, which has the three sections`, () => {
    const alert = alertOf(readinessRuleGroup());
    expect(alert.annotations!.runbook_url).to.equal(`${DEFAULT_RUNBOOK_BASE_URL}${READINESS_RUNBOOK}`);
    const path = join(RUNBOOKS_DIR, READINESS_RUNBOOK);
    expect(existsSync(path), `missing ${path}`).to.equal(true);
    const text = readFileSync(path, 'utf8');
    expect(text).to.match(new RegExp(`^# ${READINESS_ALERT}\\n`));
    for (const section of ['## What it means', '## Confirm on the dashboard', '## What to do'])
      expect(text).to.contain(section);
  });
});
