import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir, freePort, promtool, removeTempDir, startPrometheus } from '../src/index.js';
import type { PrometheusServer } from '../src/index.js';
import { expectProcessGone, waitFor } from './support.js';

const ruleYaml = `groups:
  - name: harness
    rules:
      - record: harness:up:sum
        expr: sum(up)
      - alert: HarnessTargetDown
        expr: up == 0
        for: 1m
        labels:
          severity: page
`;

function selfScrapeConfig(port: number): string {
  return `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:${port}']
`;
}

interface QueryResponse {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(url: string, expression: string): Promise<QueryResponse['data']['result']> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expression)}`);
  const body = (await response.json()) as QueryResponse;
  expect(body.status).to.equal('success');
  return body.data.result;
}

describe('harness: prometheus', function () {
  let dir: string;
  let ruleFile: string;
  let prometheus: PrometheusServer | undefined;

  before(async () => {
    dir = createTempDir('prometheus-test');
    ruleFile = join(dir, 'rules.yml');
    await writeFile(ruleFile, ruleYaml);
  });
  after(async () => {
    await prometheus?.stop();
    await removeTempDir(dir);
  });

  it('checks a configuration and rules with promtool', async () => {
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(configFile, `${selfScrapeConfig(9090)}rule_files: ['${ruleFile}']\n`);
    const config = await promtool(['check', 'config', configFile]);
    expect(config.code, config.stderr).to.equal(0);
    const rules = await promtool(['check', 'rules', ruleFile]);
    expect(rules.code, rules.stderr).to.equal(0);
    expect(rules.stdout).to.include('SUCCESS: 2 rules found');

    const brokenFile = join(dir, 'broken.yml');
    await writeFile(
      brokenFile,
      'groups:\n  - name: broken\n    rules:\n      - record: x\n        expr: sum(\n',
    );
    const broken = await promtool(['check', 'rules', brokenFile]);
    expect(broken.code).to.not.equal(0);
  });

  it('scrapes, evaluates rules and answers queries', async () => {
    const port = await freePort();
    prometheus = await startPrometheus({ configYaml: selfScrapeConfig(port), ruleFiles: [ruleFile], port });
    expect(prometheus.url).to.equal(`http://127.0.0.1:${port}`);
    const up = await waitFor('a sample of up', async () => {
      const result = await query(prometheus!.url, 'up');
      return result.length > 0 ? result : undefined;
    });
    expect(up[0]!.metric).to.include({ job: 'prometheus', instance: `127.0.0.1:${port}` });
    expect(up[0]!.value[1]).to.equal('1');
    const recorded = await waitFor('the recording rule', async () => {
      const result = await query(prometheus!.url, 'harness:up:sum');
      return result.length > 0 ? result : undefined;
    });
    expect(recorded[0]!.value[1]).to.equal('1');
  });

  it('stops the server process', async () => {
    const pid = prometheus!.pid;
    await prometheus!.stop();
    prometheus = undefined;
    await expectProcessGone(pid, 'prometheus');
  });
});
