// What the cluster offers beyond core Kubernetes, found by discovery. The builders take it as input so
// they stay pure: the same spec yields a Rollout with Argo Rollouts installed and a Deployment without.
import type { ChatCluster } from '../api/types.js';

export interface Capabilities {
  /** argoproj.io/v1alpha1 Rollout and AnalysisTemplate are served. */
  argoRollouts: boolean;
  /** monitoring.coreos.com/v1 ServiceMonitor and PrometheusRule are served. */
  prometheusOperator: boolean;
}

export const ALL_CAPABILITIES: Capabilities = { argoRollouts: true, prometheusOperator: true };

/** The components run as Argo Rollouts canaries (else as Deployments with a rolling update). */
export const usesCanary = (cluster: ChatCluster, caps: Capabilities): boolean =>
  cluster.spec.rollout.strategy === 'Canary' && caps.argoRollouts;

/** Canary analysis needs both the Rollout and Prometheus (which the Prometheus Operator implies). */
export const usesAnalysis = (cluster: ChatCluster, caps: Capabilities): boolean =>
  usesCanary(cluster, caps) && caps.prometheusOperator && cluster.spec.rollout.canary.analysis.enabled;

export const usesMonitoring = (cluster: ChatCluster, caps: Capabilities): boolean =>
  cluster.spec.monitoring.enabled && caps.prometheusOperator;

export const usesSloRules = (cluster: ChatCluster, caps: Capabilities): boolean =>
  usesMonitoring(cluster, caps) && cluster.spec.slo.enabled;
