// @chatcluster/message: the message service, for the entry point, tests and the benchmark.
export { startMessageService, type StartOptions } from './service.js';
export { messageConfigSchema, type MessageConfig } from './config.js';
export { openMessageDatabase } from './store/connection.js';
export { newMessageDoc } from './store/message-store.js';
