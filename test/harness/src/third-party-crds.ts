// The Argo Rollouts and Prometheus Operator CRDs that tools/setup/crds.sh puts in the cache.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './binaries.js';

/** Keep in step with tools/setup/crds.sh. */
export const argoRolloutsCrdFileNames = [
  'rollout-crd.yaml',
  'analysis-template-crd.yaml',
  'analysis-run-crd.yaml',
  'cluster-analysis-template-crd.yaml',
  'experiment-crd.yaml',
] as const;

export const prometheusOperatorCrdFileNames = [
  'monitoring.coreos.com_prometheusrules.yaml',
  'monitoring.coreos.com_servicemonitors.yaml',
  'monitoring.coreos.com_podmonitors.yaml',
] as const;

export function thirdPartyCrdDir(): string {
  return join(cacheDir(), 'crds');
}

/** Absolute paths of every third-party CRD file; throws naming the missing ones and `make setup`. */
export function thirdPartyCrdFiles(): string[] {
  const files = [...argoRolloutsCrdFileNames, ...prometheusOperatorCrdFileNames].map((name) =>
    join(thirdPartyCrdDir(), name),
  );
  const missing = files.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `harness: third-party CRDs missing (${missing.join(', ')}); run make setup (tools/setup/crds.sh downloads them)`,
    );
  }
  return files;
}
