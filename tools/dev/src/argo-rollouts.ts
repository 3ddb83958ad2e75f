// Argo Rollouts in the local cluster, installed as its users install it: the controller's own
// manifests/install.yaml (from its Go module, cached by tools/setup/crds.sh), with the image built
// from the same module (tools/images) in place of the one it would pull.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '@chatcluster/harness';
import type { LocalCluster } from '@chatcluster/cluster';

const UPSTREAM_CONTAINER = '- image: quay.io/argoproj/argo-rollouts:latest\n        imagePullPolicy: Always';
export const ARGO_ROLLOUTS_NAMESPACE = 'argo-rollouts';

/** install.yaml with the local image, never pulled. */
export function argoRolloutsManifest(image: string, manifest = readManifest()): string {
  if (!manifest.includes(UPSTREAM_CONTAINER)) {
    throw new Error(
      `argo-rollouts install.yaml no longer has the container image this replaces; update ${import.meta.url}`,
    );
  }
  return manifest.replace(UPSTREAM_CONTAINER, `- image: ${image}\n        imagePullPolicy: Never`);
}

function readManifest(): string {
  const file = join(cacheDir(), 'manifests', 'argo-rollouts-install.yaml');
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new Error(
      `${file} is missing: run make setup (tools/setup/crds.sh copies it from the Argo Rollouts module)`,
    );
  }
}

export async function installArgoRollouts(cluster: LocalCluster, image: string): Promise<void> {
  const namespace = await cluster.kubectl(['create', 'namespace', ARGO_ROLLOUTS_NAMESPACE]);
  if (namespace.code !== 0 && !namespace.stderr.includes('AlreadyExists')) {
    throw new Error(`could not create namespace ${ARGO_ROLLOUTS_NAMESPACE}: ${namespace.stderr.trim()}`);
  }
  const applied = await cluster.kubectl(
    ['apply', '--server-side', '-n', ARGO_ROLLOUTS_NAMESPACE, '-f', '-'],
    {
      input: argoRolloutsManifest(image),
    },
  );
  if (applied.code !== 0) throw new Error(`could not install Argo Rollouts: ${applied.stderr.trim()}`);
  const rollout = await cluster.kubectl([
    '-n',
    ARGO_ROLLOUTS_NAMESPACE,
    'rollout',
    'status',
    'deployment/argo-rollouts',
    '--timeout=180s',
  ]);
  if (rollout.code !== 0)
    throw new Error(`the Argo Rollouts controller did not become ready: ${rollout.stderr.trim()}`);
}
