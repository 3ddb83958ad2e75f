// The message service's test support for other packages' tests, as `@chatcluster/message/testing`
// (the SLO end-to-end suite starts the service through it). Re-exports only: the integration tests'
// own support files stay the one place that knows how to start and talk to the service.
export { AUDIENCE, ISSUER, startStack, type Stack } from './stack.js';
export { startProcess, stopProcess, waitForHttp, type ServiceProcess } from './processes.js';
export { call, channelWith, eventually, signup, type ApiResponse, type TestUser } from './api.js';
export { RecordingClient, wsUrl } from './clients.js';
