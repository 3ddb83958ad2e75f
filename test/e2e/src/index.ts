// @chatcluster/e2e: the journeys' helpers, shared with the failure matrix (test/chaos).
export * from './api.js';
export * from './chat.js';
export * from './platform.js';
export * from './sink.js';
