// Installs CustomResourceDefinitions from YAML files into a (test) API server and waits until the
// server serves them, so a test can create custom objects right after.
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiException, ApiextensionsV1Api, Watch, loadAllYaml } from '@kubernetes/client-node';
import type { KubeConfig, V1CustomResourceDefinition } from '@kubernetes/client-node';

export interface InstallCrdsOptions {
  /** How long to wait for every CRD to become Established (default 30 s). */
  timeoutMs?: number;
}

function isCrd(document: unknown): document is V1CustomResourceDefinition {
  const object = document as { apiVersion?: unknown; kind?: unknown } | null;
  return object?.kind === 'CustomResourceDefinition' && object.apiVersion === 'apiextensions.k8s.io/v1';
}

async function createOrReplace(api: ApiextensionsV1Api, crd: V1CustomResourceDefinition): Promise<string> {
  const name = crd.metadata?.name;
  if (!name) throw new Error('harness: a CustomResourceDefinition without metadata.name');
  try {
    await api.createCustomResourceDefinition({ body: crd });
  } catch (error) {
    if (!(error instanceof ApiException) || error.code !== 409) throw error;
    // Already installed (e.g. by an earlier suite on the same server): bring it up to date.
    const existing = await api.readCustomResourceDefinition({ name });
    const body = {
      ...crd,
      metadata: { ...crd.metadata, resourceVersion: existing.metadata?.resourceVersion },
    };
    await api.replaceCustomResourceDefinition({ name, body });
  }
  return name;
}

function isEstablished(crd: V1CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}

/** Every served `/apis/<group>/<version>/<plural>` of a CRD. */
function servedPaths(crd: V1CustomResourceDefinition): string[] {
  const { group, names, versions } = crd.spec;
  return versions.filter((v) => v.served).map((v) => `/apis/${group}/${v.name}/${names.plural}`);
}

/**
 * True once the API server accepts a watch on `path`. Right after a CRD becomes Established its
 * watch cache is still initializing and watches get 429 Too Many Requests for a moment.
 */
async function acceptsWatch(kubeConfig: KubeConfig, path: string): Promise<boolean> {
  let failed = false;
  // Watch calls `done` before it resolves when the server refuses the watch.
  const controller = await new Watch(kubeConfig).watch(
    path,
    { timeoutSeconds: 1 },
    () => {},
    (error) => {
      if (error) failed = true;
    },
  );
  controller.abort();
  return !failed;
}

/**
 * Creates (or updates) every CustomResourceDefinition found in the YAML files and waits for each to
 * be Established and to accept watches, so informers and Watch work at once. Other kinds in the files are ignored. Resolves to the CRD names.
 */
export async function installCrds(
  kubeConfig: KubeConfig,
  yamlFiles: readonly string[],
  options: InstallCrdsOptions = {},
): Promise<string[]> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of yamlFiles) {
    const documents = loadAllYaml(await readFile(file, 'utf8')) as unknown[];
    const found = documents.filter(isCrd);
    if (found.length === 0)
      throw new Error(`harness: ${file} holds no apiextensions.k8s.io/v1 CustomResourceDefinition`);
    crds.push(...found);
  }
  const names = await Promise.all(crds.map((crd) => createOrReplace(api, crd)));
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const pending = new Set(names);
  while (pending.size > 0) {
    for (const name of [...pending]) {
      if (isEstablished(await api.readCustomResourceDefinition({ name }))) pending.delete(name);
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      throw new Error(`harness: CRDs not Established within the deadline: ${[...pending].join(', ')}`);
    }
    await delay(100);
  }
  for (const path of crds.flatMap(servedPaths)) {
    while (!(await acceptsWatch(kubeConfig, path))) {
      if (Date.now() > deadline)
        throw new Error(`harness: the API server does not accept watches on ${path} yet`);
      await delay(100);
    }
  }
  return names;
}
