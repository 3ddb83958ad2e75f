// A real kube-apiserver for the operator's integration tests, with the ChatCluster CRD (and, unless
// asked otherwise, the Argo Rollouts and Prometheus Operator CRDs) installed, plus helpers to run an
// operator in-process and to wait for what it does.
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  installCrds,
  startKubeApiServer,
  thirdPartyCrdFiles,
  type KubeApiServer,
} from '@chatcluster/harness';
import { CRD_FILE_NAME } from '../../src/generated-files.js';
import { Operator, type OperatorOptions } from '../../src/controller/operator.js';
import type { Log } from '../../src/controller/reconciler.js';
import { KubeClient, isNotFound } from '../../src/kube/client.js';
import { CHATCLUSTER, OWNED_TYPES, type ResourceType } from '../../src/kube/resources.js';
import { MINIMAL_SPEC } from './sample-cluster.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const chatClusterCrdFile = join(repoRoot, 'crds', CRD_FILE_NAME);

export interface TestCluster {
  api: KubeApiServer;
  /** Acts as a person or another controller would: its own field manager. */
  admin: KubeClient;
  stop(): Promise<void>;
}

export async function startTestCluster(options: { thirdPartyCrds: boolean }): Promise<TestCluster> {
  const api = await startKubeApiServer();
  try {
    await installCrds(api.kubeConfig, [
      chatClusterCrdFile,
      ...(options.thirdPartyCrds ? thirdPartyCrdFiles() : []),
    ]);
    const admin = new KubeClient(api.kubeConfig, { fieldManager: 'test-admin' });
    return { api, admin, stop: () => api.stop() };
  } catch (err) {
    await api.stop();
    throw err;
  }
}

/** Log lines collected in memory; printed only when a test wants them. */
export class MemoryLog implements Log {
  readonly lines: { level: string; msg: string; obj: object }[] = [];
  debug(obj: object, msg: string): void {
    this.lines.push({ level: 'debug', msg, obj });
  }
  info(obj: object, msg: string): void {
    this.lines.push({ level: 'info', msg, obj });
  }
  warn(obj: object, msg: string): void {
    this.lines.push({ level: 'warn', msg, obj });
  }
  error(obj: object, msg: string): void {
    this.lines.push({ level: 'error', msg, obj });
  }
}

export function newOperator(cluster: TestCluster, overrides: Partial<OperatorOptions> = {}): Operator {
  return new Operator({
    kubeConfig: cluster.api.kubeConfig,
    identity: `test-${randomBytes(3).toString('hex')}`,
    leaseNamespace: 'default',
    log: new MemoryLog(),
    // Fast enough for tests; production defaults are 15/10/2 s.
    leaseDurationSeconds: 4,
    renewDeadlineSeconds: 3,
    retryPeriodSeconds: 1,
    backoff: { baseDelayMs: 50, maxDelayMs: 2000 },
    ...overrides,
  });
}

export async function createNamespace(
  admin: KubeClient,
  labels: Record<string, string> = {},
): Promise<string> {
  const name = `t-${randomBytes(4).toString('hex')}`;
  await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } } as never);
  return name;
}

/** The Secrets a ChatCluster references, with the documented keys. */
export async function createSecrets(admin: KubeClient, namespace: string): Promise<void> {
  const secret = (name: string, data: Record<string, string>) =>
    admin.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace },
      stringData: data,
    } as never);
  await Promise.all([
    secret('chat-postgres', { url: 'postgres://chat@postgres:5432/chat' }),
    secret('chat-mongodb', { url: 'mongodb://mongo:27017/chat' }),
    secret('chat-redis', { url: 'redis://redis:6379' }),
  ]);
}

export function chatCluster(namespace: string, name: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'chatcluster.io/v1alpha1',
    kind: 'ChatCluster',
    metadata: { name, namespace },
    spec: { ...MINIMAL_SPEC, ...spec },
  };
}

export interface ObjectWithMeta {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

export const typeOf = (kind: string): ResourceType => {
  const type = [CHATCLUSTER, ...OWNED_TYPES].find((t) => t.kind === kind);
  if (!type) throw new Error(`no resource type ${kind}`);
  return type;
};

export async function getObject(
  admin: KubeClient,
  kind: string,
  namespace: string,
  name: string,
): Promise<ObjectWithMeta | undefined> {
  try {
    return await admin.get<ObjectWithMeta>(typeOf(kind), namespace, name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Polls until `check` returns a value other than undefined/false, or fails with the last reason. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out waiting for ${what}${reason}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const conditionOf = (object: ObjectWithMeta | undefined, type: string) =>
  (
    (object?.status?.conditions ?? []) as {
      type: string;
      status: string;
      reason: string;
      message: string;
      lastTransitionTime: string;
      observedGeneration?: number;
    }[]
  ).find((c) => c.type === type);
