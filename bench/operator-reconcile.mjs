#!/usr/bin/env node
// Benchmark of the operator on a real kube-apiserver (with the Argo Rollouts and Prometheus Operator
// CRDs): 200 ChatClusters from empty to every child present and every status written, then a full
// resync of all of them. Prints wall time and the API requests per ChatCluster (by verb, as the
// operator sent them, and the writes the API server counted).
// Run: npx tsc -b operator && node bench/operator-reconcile.mjs [count] [workers]
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCrds, startKubeApiServer, thirdPartyCrdFiles } from '@chatcluster/harness';
import { KubeClient, Operator } from '@chatcluster/operator';

const COUNT = Number(process.argv[2] ?? 200);
const WORKERS = Number(process.argv[3] ?? 4);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NS = 'bench';
/** Children per ChatCluster with every optional CRD installed and the defaults (no Ingress). */
const CHILDREN_PER_CLUSTER = 37;

const log = {
  debug() {},
  info() {},
  warn: (o, m) => console.error('warn', m, JSON.stringify(o)),
  error: (o, m) => console.error('error', m, JSON.stringify(o)),
};
const spec = {
  image: { version: '1.0.0' },
  dataStores: {
    postgres: { secretRef: { name: 'chat-postgres' } },
    mongodb: { secretRef: { name: 'chat-mongodb' } },
    redis: { secretRef: { name: 'chat-redis' } },
  },
  jwt: { issuer: 'https://chat.example.com' },
};

/** Writes the API server counted, on the kinds a ChatCluster owns and on ChatClusters (status). */
async function serverWrites(admin) {
  const text = await admin.getText('/metrics');
  const kinds =
    /resource="(configmaps|services|serviceaccounts|deployments|poddisruptionbudgets|horizontalpodautoscalers|ingresses|networkpolicies|rollouts|analysistemplates|servicemonitors|prometheusrules|chatclusters)"/;
  let total = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith('apiserver_request_total{') &&
      /verb="(APPLY|PATCH|POST|PUT|DELETE)"/.test(line) &&
      kinds.test(line)
    ) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

const latencies = {};
function latencySummary() {
  return Object.fromEntries(
    Object.entries(latencies).map(([key, values]) => {
      values.sort((a, b) => a - b);
      const at = (q) => Math.round(values[Math.min(values.length - 1, Math.floor(q * values.length))]);
      return [key, { n: values.length, p50ms: at(0.5), p95ms: at(0.95) }];
    }),
  );
}

function snapshot(client) {
  return Object.fromEntries(client.counts);
}
function perCluster(before, after) {
  const out = {};
  for (const [verb, n] of Object.entries(after)) {
    const d = n - (before[verb] ?? 0);
    if (d > 0 && verb !== 'watch') out[verb] = +(d / COUNT).toFixed(2);
  }
  return out;
}

async function inBatches(items, size, fn) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

// 3 Services per ChatCluster: more ClusterIPs than the harness's default /24 holds.
const api = await startKubeApiServer({ extraArgs: ['--service-cluster-ip-range=10.96.0.0/16'] });
let operator;
try {
  await installCrds(api.kubeConfig, [
    join(repoRoot, 'crds', 'chatcluster.io_chatclusters.yaml'),
    ...thirdPartyCrdFiles(),
  ]);
  const admin = new KubeClient(api.kubeConfig, { fieldManager: 'bench' });
  await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  for (const name of ['chat-postgres', 'chat-mongodb', 'chat-redis']) {
    await admin.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: NS },
      stringData: { url: 'x://y' },
    });
  }
  operator = new Operator({
    kubeConfig: api.kubeConfig,
    identity: 'bench',
    leaseNamespace: 'default',
    workers: WORKERS,
    log,
    afterResponse: (r) => {
      if (r.verb === 'watch') return;
      // "apply deployments", "apply status", …: where the time goes.
      const parts = r.path.split('/');
      const key = `${r.verb} ${parts.at(-1) === 'status' ? 'chatclusters/status' : parts.at(-2)}`;
      (latencies[key] ??= []).push(r.durationMs);
    },
  });
  operator.start();
  await operator.waitForIdle(60_000);

  // Empty -> every child present and every status written.
  const before = snapshot(operator.client);
  const writesBefore = await serverWrites(admin);
  const started = performance.now();
  const names = Array.from({ length: COUNT }, (_, i) => `chat-${String(i).padStart(3, '0')}`);
  await inBatches(names, 20, (name) =>
    admin.create({
      apiVersion: 'chatcluster.io/v1alpha1',
      kind: 'ChatCluster',
      metadata: { name, namespace: NS },
      spec,
    }),
  );
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    await operator.waitForIdle(15 * 60_000, 1000);
    const [clusters, deployments, rules] = await Promise.all([
      admin.list(
        {
          apiVersion: 'chatcluster.io/v1alpha1',
          kind: 'ChatCluster',
          plural: 'chatclusters',
          namespaced: true,
        },
        NS,
      ),
      admin.list({ apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true }, NS),
      admin.list(
        {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'PrometheusRule',
          plural: 'prometheusrules',
          namespaced: true,
        },
        NS,
      ),
    ]);
    const withStatus = clusters.items.filter(
      (c) => c.status?.observedGeneration === c.metadata.generation,
    ).length;
    if (withStatus === COUNT && deployments.items.length === 3 * COUNT && rules.items.length === COUNT) break;
    if (Date.now() > deadline)
      throw new Error(`not converged: ${withStatus} statuses, ${deployments.items.length} Deployments`);
  }
  const createMs = performance.now() - started;
  const afterCreate = snapshot(operator.client);
  const createWrites = (await serverWrites(admin)) - writesBefore;

  // Full resync of a steady state.
  const resyncWritesBefore = await serverWrites(admin);
  const resyncStarted = performance.now();
  operator.resyncAll();
  await operator.waitForIdle(5 * 60_000, 200);
  const resyncMs = performance.now() - resyncStarted - 200;
  const afterResync = snapshot(operator.client);
  const resyncWrites = (await serverWrites(admin)) - resyncWritesBefore;

  console.log(
    JSON.stringify({
      chatClusters: COUNT,
      workers: WORKERS,
      childrenPerChatCluster: CHILDREN_PER_CLUSTER,
      create: {
        seconds: +(createMs / 1000).toFixed(1),
        operatorRequestsPerChatCluster: perCluster(before, afterCreate),
        serverWritesPerChatCluster: +(createWrites / COUNT).toFixed(2),
      },
      resync: {
        milliseconds: Math.round(resyncMs),
        operatorRequestsPerChatCluster: perCluster(afterCreate, afterResync),
        serverWritesPerChatCluster: +(resyncWrites / COUNT).toFixed(2),
      },
      requestLatency: latencySummary(),
    }),
  );
} finally {
  await operator?.stop();
  await api.stop();
}
