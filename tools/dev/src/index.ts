// @chatcluster/dev as a library: the platform `make dev` starts, for the end-to-end and failure tests
// (test/e2e, test/chaos), which start it exactly as `make dev` does.
export {
  CLUSTER_NAME,
  CLUSTER_NAMESPACE,
  OPERATOR_NAMESPACE,
  startPlatform,
  type PlatformOptions,
  type PlatformParts,
  type RunningPlatform,
} from './platform.js';
export { DEV_REPLICAS, type DataStoreUrls } from './chat-cluster.js';
export { NODE_PORTS, type ExposedComponent } from './exposure.js';
export type { ProviderFault, ProviderName, ProviderSink } from './provider-sink.js';
