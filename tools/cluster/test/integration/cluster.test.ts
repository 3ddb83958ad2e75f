// The local cluster is a real Kubernetes: a pod from a locally built image runs under the kubelet,
// its probes gate a Service and restart it, kube-proxy answers the NodePort, CoreDNS resolves the
// Service, `kubectl logs` and `exec` work. A second start while one runs is refused, a killed
// run's leftovers are cleaned by the next start, and a stop puts the machine back as it was.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTempDir, eventually, httpGet, removeTempDir, runCommand } from '@chatcluster/harness';
import { NODE_ADDRESS, NODE_BRIDGE, clusterDirs, startCluster, type LocalCluster } from '../../src/index.js';

const cli = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

// Answers /ready and /live until GET /break, after which /live hangs up: the kubelet must restart it.
const SERVER = `
const http = require('node:http');
let broken = false;
http.createServer((req, res) => {
  if (req.url === '/break') broken = true;
  if (req.url === '/live' && broken) return req.socket.destroy();
  res.end(JSON.stringify({ path: req.url, started: process.env.STARTED }));
}).listen(8080, () => console.log('listening on 8080'));
`;

function probeObjects(image: string): Record<string, unknown>[] {
  const labels = { app: 'probe' };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'probe', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'server',
                image,
                imagePullPolicy: 'Never',
                args: ['-e', SERVER],
                ports: [{ containerPort: 8080 }],
                readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1 },
                livenessProbe: {
                  httpGet: { path: '/live', port: 8080 },
                  periodSeconds: 1,
                  failureThreshold: 2,
                  timeoutSeconds: 1,
                },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'probe' },
      spec: { type: 'NodePort', selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
    },
  ];
}

async function json<T>(cluster: LocalCluster, args: string[]): Promise<T> {
  const result = await cluster.kubectl([...args, '-o', 'json']);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

interface PodList {
  items: {
    metadata: { name: string };
    status: { containerStatuses?: { ready: boolean; restartCount: number }[] };
  }[];
}

describe('the local single-node cluster', function () {
  this.timeout(600_000);
  let cluster: LocalCluster;
  let logDir: string;
  // ip_forward as the machine had it before any cluster. A run killed before its clean-up left its own
  // value, and the original in host-changes.json, which the next start puts back.
  const forwardingBefore =
    recordedForwarding() ?? readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();

  before(async () => {
    logDir = createTempDir('cluster-test');
    // A first cluster whose owner is SIGKILLed: its components live on in their own process groups.
    const crashed: ChildProcess = spawn(process.execPath, [cli, 'up', `${logDir}/crashed`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    crashed.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    crashed.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually('the first cluster up', () => output.includes('export KUBECONFIG='), 400_000, 500).catch(
      (error: Error) => {
        crashed.kill('SIGKILL');
        throw new Error(`${error.message}\n${output}`);
      },
    );
    // While it runs, another start is refused with the owner's pid.
    const second = await runCommand(process.execPath, [cli, 'up', `${logDir}/second`]);
    expect(second.code).to.not.equal(0);
    expect(second.stderr + second.stdout).to.contain('already running');
    crashed.kill('SIGKILL');
    await new Promise((resolve) => crashed.once('exit', resolve));
    cluster = await startCluster({ logDir });
  });

  after(async () => {
    await cluster?.stop();
    await removeTempDir(logDir);
  });

  it('registers a Ready node and runs CoreDNS', async () => {
    const node = await json<{ status: { conditions: { type: string; status: string }[] } }>(cluster, [
      'get',
      'node',
      cluster.nodeName,
    ]);
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).to.equal('True');
  });

  it('runs a pod whose probes gate its Service, answers the NodePort, restarts it when liveness fails', async () => {
    const applied = await cluster.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: probeObjects(cluster.images.images.message),
      }),
    });
    expect(applied.code, applied.stderr).to.equal(0);
    const rollout = await cluster.kubectl(['rollout', 'status', 'deployment/probe', '--timeout=120s']);
    expect(rollout.code, rollout.stderr).to.equal(0);
    const service = await json<{ spec: { clusterIP: string; ports: { nodePort: number }[] } }>(cluster, [
      'get',
      'service',
      'probe',
    ]);
    const nodePortUrl = `http://${NODE_ADDRESS}:${service.spec.ports[0]!.nodePort}`;
    await eventually(
      'the NodePort answers',
      async () => (await httpGet(`${nodePortUrl}/ready`)).status === 200,
    );

    const pods = await json<PodList>(cluster, ['get', 'pods', '-l', 'app=probe']);
    const pod = pods.items[0]!.metadata.name;
    const logs = await cluster.kubectl(['logs', pod]);
    expect(logs.stdout).to.contain('listening on 8080');
    const lookup = await cluster.kubectl([
      'exec',
      pod,
      '--',
      '/usr/local/bin/node',
      '-e',
      "require('node:dns').promises.lookup('probe.default.svc.cluster.local').then((r) => console.log(r.address))",
    ]);
    expect(lookup.code, lookup.stderr).to.equal(0);
    expect(lookup.stdout.trim()).to.equal(service.spec.clusterIP);

    await httpGet(`${nodePortUrl}/break`);
    const restarted = await eventually(
      'the kubelet to restart the container after failed liveness probes',
      async () => {
        const list = await json<PodList>(cluster, ['get', 'pods', '-l', 'app=probe']);
        const status = list.items[0]?.status.containerStatuses?.[0];
        return status && status.restartCount >= 1 && status.ready ? status : undefined;
      },
      90_000,
      500,
    );
    expect(restarted.restartCount).to.equal(1);
    await eventually(
      'the NodePort answers again',
      async () => (await httpGet(`${nodePortUrl}/live`)).status === 200,
    );
  });

  it('puts the machine back as it was when stopped', async () => {
    await cluster.stop();
    cluster = undefined as unknown as LocalCluster;
    const link = await runCommand('/usr/sbin/ip', ['link', 'show', NODE_BRIDGE]);
    expect(link.code).to.not.equal(0);
    const rules = await runCommand('/usr/sbin/iptables-save', []);
    expect(rules.stdout).to.not.match(/KUBE-|CNI-/);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).to.equal(forwardingBefore);
    // No shim of this cluster's containerd runs (a reaped-late zombie has no command line to match).
    const shims = await runCommand('/usr/bin/pgrep', [
      '-f',
      `containerd-shim.*${clusterDirs().containerdSocket}`,
    ]);
    expect(shims.stdout.trim()).to.equal('');
  });
});

function recordedForwarding(): string | undefined {
  try {
    const changes = JSON.parse(readFileSync(join(clusterDirs().runtime, 'host-changes.json'), 'utf8')) as {
      sysctls?: Record<string, string>;
    };
    return changes.sysctls?.['net/ipv4/ip_forward'];
  } catch {
    return undefined;
  }
}
