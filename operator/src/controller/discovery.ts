// Finds out, through the API server's discovery documents, whether Argo Rollouts and the Prometheus
// Operator are installed. A missing group is an answer (fall back), not an error to crash on.
import { isNotFound, type KubeClient } from '../kube/client.js';
import type { Capabilities } from '../specs/capabilities.js';

interface ApiResourceList {
  resources: { name: string }[];
}

const REQUIRED: Record<keyof Capabilities, { groupVersion: string; plurals: string[] }> = {
  argoRollouts: { groupVersion: 'argoproj.io/v1alpha1', plurals: ['rollouts', 'analysistemplates'] },
  prometheusOperator: {
    groupVersion: 'monitoring.coreos.com/v1',
    plurals: ['servicemonitors', 'prometheusrules'],
  },
};

async function served(client: KubeClient, groupVersion: string, plurals: string[]): Promise<boolean> {
  try {
    const list = await client.getPath<ApiResourceList>(`/apis/${groupVersion}`);
    const names = new Set(list.resources.map((r) => r.name));
    return plurals.every((p) => names.has(p));
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export async function discoverCapabilities(client: KubeClient): Promise<Capabilities> {
  const [argoRollouts, prometheusOperator] = await Promise.all([
    served(client, REQUIRED.argoRollouts.groupVersion, REQUIRED.argoRollouts.plurals),
    served(client, REQUIRED.prometheusOperator.groupVersion, REQUIRED.prometheusOperator.plurals),
  ]);
  return { argoRollouts, prometheusOperator };
}

/** The Fallback condition's reason and message for what the ChatCluster asks for but the cluster
 * lacks, or undefined when nothing is missing. */
export function describeFallback(
  caps: Capabilities,
  wants: { canary: boolean; monitoring: boolean },
): { reason: string; message: string } | undefined {
  const lacksRollouts = wants.canary && !caps.argoRollouts;
  const lacksMonitoring = wants.monitoring && !caps.prometheusOperator;
  const missing: string[] = [];
  if (lacksRollouts) {
    missing.push(
      'Argo Rollouts is not installed: components run as Deployments with a rolling update, without canary analysis',
    );
  }
  if (lacksMonitoring) {
    missing.push(
      'the Prometheus Operator is not installed: ServiceMonitors, SLO alerts and canary analysis are skipped',
    );
  }
  if (missing.length === 0) return undefined;
  const reason =
    lacksRollouts && lacksMonitoring
      ? 'ArgoRolloutsAndPrometheusOperatorMissing'
      : lacksRollouts
        ? 'ArgoRolloutsMissing'
        : 'PrometheusOperatorMissing';
  return { reason, message: missing.join('; ') };
}
