// @chatcluster/cluster: a real single-node Kubernetes cluster on this machine.
export * from './cluster.js';
export * from './layout.js';
