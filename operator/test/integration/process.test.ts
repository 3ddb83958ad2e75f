// The operator as a process (operator/dist/src/main.js), as `make dev` or a pod runs it: JSON logs,
// health and metrics on its port, reconciling through KUBECONFIG, and a graceful SIGTERM that
// releases the Lease.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { LEASE } from '../../src/kube/resources.js';
import {
  chatCluster,
  conditionOf,
  createNamespace,
  createSecrets,
  eventually,
  getObject,
  repoRoot,
  startTestCluster,
  type TestCluster,
} from '../support/test-cluster.js';

describe('operator process', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let child: ChildProcess | undefined;
  const lines: string[] = [];
  let url: string;

  before(async function () {
    this.timeout(180_000);
    cluster = await startTestCluster({ thirdPartyCrds: false });
    child = spawn(process.execPath, [join(repoRoot, 'operator', 'dist', 'src', 'main.js')], {
      env: {
        ...process.env,
        KUBECONFIG: cluster.api.kubeconfigPath,
        PORT: '0',
        POD_NAME: 'operator-under-test',
        POD_NAMESPACE: 'default',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
    createInterface({ input: child.stderr! }).on('line', (line) => lines.push(line));
    url = await eventually('the listening line', () => {
      for (const line of lines) {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'listening' && entry.url) return entry.url;
      }
      return undefined;
    });
  });

  after(async function () {
    this.timeout(60_000);
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await cluster?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const line of lines.slice(-20)) console.error(line);
  });

  it('answers liveness at once and readiness once its caches are synced', async () => {
    expect((await fetch(`${url}/health/liveness`)).status).to.equal(200);
    await eventually('readiness', async () => (await fetch(`${url}/health/readiness`)).status === 200);
  });

  it('reconciles a ChatCluster through KUBECONFIG and counts it in its metrics', async () => {
    const ns = await createNamespace(cluster.admin);
    await createSecrets(cluster.admin, ns);
    await cluster.admin.create(chatCluster(ns, 'proc'));
    await eventually('the status', async () =>
      conditionOf(await getObject(cluster.admin, 'ChatCluster', ns, 'proc'), 'Ready'),
    );
    // The status is written inside the reconcile; the counter moves when the reconcile returns.
    const reconciled = /^chat_operator_reconcile_total\{result="success"\} [1-9]/m;
    const metrics = await eventually('the reconcile counted', async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return reconciled.test(text) ? text : undefined;
    });
    expect(metrics).to.match(reconciled);
    expect(metrics).to.match(/^chat_operator_leader 1$/m);
    expect(metrics).to.match(/^chat_operator_api_requests_total\{verb="apply",code="200"\} [1-9]/m);
    expect(metrics).to.include('chat_operator_queue_depth');
    expect(metrics).to.include('chat_operator_reconcile_duration_seconds_bucket');
  });

  it('logs one JSON object per line', () => {
    expect(lines.length).to.be.greaterThan(3);
    for (const line of lines) {
      const entry = JSON.parse(line) as { level?: unknown; time?: unknown; msg?: unknown };
      expect(entry.level, line).to.be.a('string');
      expect(entry.msg, line).to.be.a('string');
    }
  });

  it('shuts down on SIGTERM: exits 0 and releases the Lease for the next leader', async () => {
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child!.kill('SIGTERM');
    expect(await exited).to.equal(0);
    const lease = await cluster.admin.get<{ spec: { holderIdentity?: string } }>(
      LEASE,
      'default',
      'chatcluster-operator',
    );
    expect(lease.spec.holderIdentity ?? '').to.equal('');
  });
});
