// @chatcluster/chaos: the failure matrix's load driver, platform and report.
export * from './load.js';
export * from './outage.js';
export * from './platform.js';
export * from './report.js';
export * from './stats.js';
export * from './alerts.js';
export * from './canary.js';
