// @chatcluster/operator: the ChatCluster CRD schema, the pure builders and the controller.
export * from './api/types.js';
export { chatClusterCrd } from './api/chatcluster-crd.js';
export { defaultedSpec } from './api/defaults.js';
export { desiredObjects } from './specs/desired-state.js';
export { ALL_CAPABILITIES, type Capabilities } from './specs/capabilities.js';
export { Operator, FIELD_MANAGER, type OperatorOptions } from './controller/operator.js';
export { OperatorMetrics } from './controller/metrics.js';
export { KubeClient } from './kube/client.js';
