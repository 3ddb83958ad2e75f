// The development runner: see runner.ts.
export { DevRunner, RUNNER_NOTICE, type DevRunnerOptions, type ReplicaInfo } from './runner.js';
export type { CommandOverrides, LocalCommand } from './commands.js';
export { DEV_BACKOFF, type BackoffOptions } from './replica.js';
