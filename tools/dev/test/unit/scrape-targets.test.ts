import { expect } from 'chai';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReplicaInfo } from '../../src/runner/index.js';
import {
  TargetFile,
  devPrometheusConfig,
  scrapeTargetGroups,
  type TargetGroup,
} from '../../src/scrape-targets.js';

const replica = (name: string, overrides: Partial<ReplicaInfo> = {}): ReplicaInfo => ({
  name,
  workload: 'chat-message',
  namespace: 'default',
  hash: 'abc123',
  phase: 'Running',
  ready: true,
  restarts: 0,
  pid: 4242,
  ports: { 8082: 40001 },
  namedPorts: { http: 40001 },
  labels: { 'app.kubernetes.io/name': 'message', 'rollouts-pod-template-hash': 'abc123' },
  container: 'message',
  logFile: `/tmp/${name}.log`,
  lastProblem: undefined,
  lastRestartReason: undefined,
  ...overrides,
});

describe('dev Prometheus: scrape targets from the runner', () => {
  it("makes one target per running replica at its http port, labelled like a ServiceMonitor's", () => {
    const groups = scrapeTargetGroups([
      replica('chat-message-abc123-bbbbb', { namedPorts: { http: 40002 }, ready: false }),
      replica('chat-message-abc123-aaaaa'),
      replica('chat-auth-def456-ccccc', {
        workload: 'chat-auth',
        container: 'auth',
        namedPorts: { http: 40003 },
        labels: { 'pod-template-hash': 'def456' },
      }),
    ]);
    expect(groups).to.deep.equal([
      {
        targets: ['127.0.0.1:40003'],
        labels: { job: 'chat-auth', namespace: 'default', pod: 'chat-auth-def456-ccccc', container: 'auth' },
      },
      {
        targets: ['127.0.0.1:40001'],
        labels: {
          job: 'chat-message',
          namespace: 'default',
          pod: 'chat-message-abc123-aaaaa',
          container: 'message',
          rollouts_pod_template_hash: 'abc123',
        },
      },
      {
        // Not ready (a dependency is down) is still scraped: its errors are what the SLOs count.
        targets: ['127.0.0.1:40002'],
        labels: {
          job: 'chat-message',
          namespace: 'default',
          pod: 'chat-message-abc123-bbbbb',
          container: 'message',
          rollouts_pod_template_hash: 'abc123',
        },
      },
    ]);
  });

  it('leaves out replicas without a process and ports that are not the http port', () => {
    expect(
      scrapeTargetGroups([
        replica('pending', { phase: 'Pending', pid: undefined }),
        replica('backing-off', { phase: 'BackOff', pid: undefined }),
        replica('terminating', { phase: 'Terminating' }),
        replica('terminated', { phase: 'Terminated', pid: undefined }),
        replica('no-http-port', { namedPorts: { grpc: 40009 } }),
      ]),
    ).to.deep.equal([]);
  });

  it('writes the prometheus.yml: the file_sd file, the operator and Alertmanager', () => {
    const config = JSON.parse(
      devPrometheusConfig({
        targetFile: '/tmp/dev/prometheus/targets.json',
        operator: '127.0.0.1:8090',
        alertmanager: '127.0.0.1:9093',
      }),
    ) as {
      global: Record<string, string>;
      scrape_configs: {
        job_name: string;
        file_sd_configs?: { files: string[] }[];
        static_configs?: unknown;
      }[];
      alerting: unknown;
    };
    expect(config.global).to.deep.equal({ scrape_interval: '15s', evaluation_interval: '15s' });
    expect(config.scrape_configs.map((c) => c.job_name)).to.deep.equal([
      'chatcluster',
      'chatcluster-operator',
    ]);
    expect(config.scrape_configs[0]!.file_sd_configs![0]!.files).to.deep.equal([
      '/tmp/dev/prometheus/targets.json',
    ]);
    expect(config.scrape_configs[1]!.static_configs).to.deep.equal([{ targets: ['127.0.0.1:8090'] }]);
    expect(config.alerting).to.deep.equal({
      alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:9093'] }] }],
    });
  });
});

describe('dev Prometheus: the file_sd target file', () => {
  let dir: string;
  const group = (port: number): TargetGroup => ({
    targets: [`127.0.0.1:${port}`],
    labels: { job: 'chat-auth' },
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scrape-targets-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the groups as file_sd JSON, creating the directory', () => {
    const file = new TargetFile(join(dir, 'prometheus', 'targets.json'));
    expect(file.write([group(1)])).to.equal(true);
    expect(JSON.parse(readFileSync(file.path, 'utf8'))).to.deep.equal([group(1)]);
    expect(file.write([])).to.equal(true);
    expect(JSON.parse(readFileSync(file.path, 'utf8'))).to.deep.equal([]);
  });

  it('rewrites only on a change, leaving no temporary file behind', () => {
    const file = new TargetFile(join(dir, 'targets.json'));
    file.write([group(1)]);
    const written = statSync(file.path);
    expect(file.write([group(1)])).to.equal(false);
    expect(statSync(file.path).ino).to.equal(written.ino);
    expect(file.write([group(2)])).to.equal(true);
    // Replaced by a rename (a new inode), never rewritten in place.
    expect(statSync(file.path).ino).to.not.equal(written.ino);
    expect(JSON.parse(readFileSync(file.path, 'utf8'))).to.deep.equal([group(2)]);
    expect(readdirSync(dir)).to.deep.equal(['targets.json']);
  });

  it('compares with what the file holds when it starts (a restarted make dev rewrites nothing the same)', () => {
    const path = join(dir, 'targets.json');
    new TargetFile(path).write([group(1)]);
    expect(new TargetFile(path).write([group(1)])).to.equal(false);
    writeFileSync(path, 'left over\n');
    expect(new TargetFile(path).write([group(1)])).to.equal(true);
    expect(JSON.parse(readFileSync(path, 'utf8'))).to.deep.equal([group(1)]);
  });
});
