// The target file as a real Prometheus reads it: the config `make dev` writes, a file_sd file with one
// /metrics endpoint, and Prometheus follows the file when it is replaced (a replica moving to another
// port) without a restart or a reload.
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  eventually,
  createTempDir,
  removeTempDir,
  startPrometheus,
  type PrometheusServer,
} from '@chatcluster/harness';
import { TargetFile, devPrometheusConfig } from '../../src/scrape-targets.js';

interface ActiveTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: string;
}

async function metricsServer(value: number): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      `# TYPE chat_auth_http_requests_total counter\nchat_auth_http_requests_total{code="200"} ${value}\n`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

describe('dev Prometheus follows the file_sd target file (real Prometheus)', function () {
  this.timeout(60_000);
  let dir: string;
  let prometheus: PrometheusServer;
  const servers: Server[] = [];

  before(() => {
    dir = createTempDir('scrape-targets');
  });
  after(async () => {
    await prometheus?.stop();
    for (const server of servers) server.close();
    await removeTempDir(dir);
  });

  const activeTargets = async (): Promise<ActiveTarget[]> =>
    (
      (await (await fetch(`${prometheus.url}/api/v1/targets?state=active`)).json()) as {
        data: { activeTargets: ActiveTarget[] };
      }
    ).data.activeTargets.filter((t) => t.labels.job !== 'chatcluster-operator');

  it('scrapes the replicas in the file with their labels, and follows the file when it changes', async () => {
    const first = await metricsServer(1);
    const second = await metricsServer(2);
    servers.push(first.server, second.server);
    const file = new TargetFile(join(dir, 'targets.json'));
    const labels = { job: 'chat-auth', namespace: 'default', pod: 'chat-auth-x-1', container: 'auth' };
    file.write([{ targets: [`127.0.0.1:${first.port}`], labels }]);
    prometheus = await startPrometheus({
      configYaml: devPrometheusConfig({
        targetFile: file.path,
        operator: '127.0.0.1:9',
        alertmanager: '127.0.0.1:9',
        scrapeInterval: '1s',
      }),
    });
    const up = await eventually('the first replica scraped', async () => {
      const [target] = await activeTargets();
      return target?.health === 'up' ? target : undefined;
    });
    expect(up.labels).to.include({ ...labels, instance: `127.0.0.1:${first.port}` });

    // The replica restarted on another port: the runner rewrites the file, Prometheus follows it.
    file.write([{ targets: [`127.0.0.1:${second.port}`], labels: { ...labels, pod: 'chat-auth-x-2' } }]);
    const moved = await eventually('the new port scraped instead', async () => {
      const targets = await activeTargets();
      return targets.length === 1 && targets[0]!.labels.pod === 'chat-auth-x-2' && targets[0]!.health === 'up'
        ? targets[0]!
        : undefined;
    });
    expect(moved.scrapeUrl).to.equal(`http://127.0.0.1:${second.port}/metrics`);
    const query = `${prometheus.url}/api/v1/query?query=${encodeURIComponent('chat_auth_http_requests_total{pod="chat-auth-x-2"}')}`;
    const value = await eventually('the series of the new replica', async () => {
      const body = (await (await fetch(query)).json()) as { data: { result: { value: [number, string] }[] } };
      return body.data.result[0]?.value[1];
    });
    expect(value).to.equal('2');
  });
});
