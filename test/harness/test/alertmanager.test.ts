import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { amtool, createTempDir, removeTempDir, startAlertmanager } from '../src/index.js';
import type { AlertmanagerServer } from '../src/index.js';
import { expectProcessGone } from './support.js';

const configYaml = `route:
  receiver: blackhole
  group_by: [alertname]
receivers:
  - name: blackhole
`;

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string };
}

describe('harness: alertmanager', function () {
  let dir: string;
  let alertmanager: AlertmanagerServer | undefined;

  before(() => {
    dir = createTempDir('alertmanager-test');
  });
  after(async () => {
    await alertmanager?.stop();
    await removeTempDir(dir);
  });

  it('checks a configuration with amtool', async () => {
    const good = join(dir, 'good.yml');
    await writeFile(good, configYaml);
    const result = await amtool(['check-config', good]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('SUCCESS');

    const bad = join(dir, 'bad.yml');
    await writeFile(bad, 'route:\n  receiver: nobody\nreceivers: []\n');
    expect((await amtool(['check-config', bad])).code).to.not.equal(0);
  });

  it('accepts an alert and lists it', async () => {
    alertmanager = await startAlertmanager({ configYaml });
    const posted = await fetch(`${alertmanager.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          labels: { alertname: 'HarnessTest', severity: 'page' },
          annotations: { summary: 'from the self-test' },
        },
      ]),
    });
    expect(posted.status).to.equal(200);
    const listed = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as Alert[];
    expect(listed).to.have.length(1);
    expect(listed[0]!.labels).to.deep.equal({ alertname: 'HarnessTest', severity: 'page' });
    expect(listed[0]!.annotations.summary).to.equal('from the self-test');
    expect(listed[0]!.status.state).to.equal('active');
  });

  it('stops the server process', async () => {
    const pid = alertmanager!.pid;
    await alertmanager!.stop();
    alertmanager = undefined;
    await expectProcessGone(pid, 'prometheus-alertmanager');
  });
});
