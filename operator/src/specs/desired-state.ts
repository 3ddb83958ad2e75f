// Everything one ChatCluster should own, given what the cluster offers. Pure: spec in, objects out.
// Each object carries a hash of itself, so the reconciler notices any change of what is desired
// (including a field that is no longer set) without a request.
import { createHash } from 'node:crypto';
import { COMPONENTS, type ChatCluster } from '../api/types.js';
import { canaryHealthAnalysisTemplate } from './analysis.js';
import { horizontalPodAutoscaler, podDisruptionBudget, serviceAccount } from './availability.js';
import { usesAnalysis, usesCanary, usesMonitoring, usesSloRules, type Capabilities } from './capabilities.js';
import { configMap, featureFlagsConfigMap } from './config-maps.js';
import { stableJson } from '../util/stable-json.js';
import { DESIRED_HASH_ANNOTATION, type KubeObject } from './meta.js';
import { serviceMonitor } from './monitoring.js';
import type { DataDigests } from './referenced-data.js';
import { ingress, networkPolicy, service } from './networking.js';
import { sloAnalysisTemplates, sloPrometheusRule } from './slo-objects.js';
import { deployment, rollout } from './workloads.js';

/** `digests`: of the Secrets and ConfigMaps the pods read (podDataSources), read by the controller. */
export function desiredObjects(
  cluster: ChatCluster,
  caps: Capabilities,
  digests?: DataDigests,
): KubeObject[] {
  const objects: (KubeObject | undefined)[] = [featureFlagsConfigMap(cluster), ingress(cluster)];
  for (const component of COMPONENTS) {
    objects.push(
      serviceAccount(cluster, component),
      configMap(cluster, component),
      deployment(cluster, component, caps, digests),
      service(cluster, component),
      podDisruptionBudget(cluster, component),
      horizontalPodAutoscaler(cluster, component, caps),
    );
    if (cluster.spec.networkPolicy.enabled) objects.push(networkPolicy(cluster, component));
    if (usesCanary(cluster, caps)) objects.push(rollout(cluster, component, caps));
    if (usesAnalysis(cluster, caps)) {
      objects.push(canaryHealthAnalysisTemplate(cluster, component));
      if (cluster.spec.slo.enabled) objects.push(...sloAnalysisTemplates(cluster, component));
    }
    if (usesMonitoring(cluster, caps)) objects.push(serviceMonitor(cluster, component));
  }
  if (usesSloRules(cluster, caps)) objects.push(sloPrometheusRule(cluster));
  return objects.filter((o): o is KubeObject => o !== undefined).map(withDesiredHash);
}

/** Adds the hash of the object (without the hash itself) as an annotation. */
export function withDesiredHash(object: KubeObject): KubeObject {
  const hash = createHash('sha256').update(stableJson(object)).digest('hex').slice(0, 16);
  return {
    ...object,
    metadata: {
      ...object.metadata,
      annotations: { ...object.metadata.annotations, [DESIRED_HASH_ANNOTATION]: hash },
    },
  };
}
