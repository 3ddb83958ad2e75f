// @chatcluster/dev as a library: the platform `make dev` starts, for the end-to-end and failure tests
// (test/e2e, test/chaos), which start it exactly as `make dev` does.
export { startPlatform, type PlatformOptions, type PlatformParts, type RunningPlatform } from './platform.js';
export type { DataStoreUrls, LocalControlPlane } from './control-plane.js';
export { DEV_REPLICAS } from './dev-cluster.js';
export { startLocalService, type LocalService } from './local-service.js';
export type { LocalWorkloads } from './local-workloads.js';
export type { ProviderFault, ProviderName, ProviderSink } from './provider-sink.js';
export { DevRunner, RUNNER_NOTICE, type ReplicaInfo } from './runner/index.js';
