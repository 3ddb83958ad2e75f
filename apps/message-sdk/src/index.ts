// @chatcluster/message-sdk: the ChatCluster client for Node and browsers (docs/protocol.md).
export * from './protocol.js';
export {
  ChatClient,
  type ChatClientEvents,
  type ChatClientOptions,
  type ConnectionState,
  type SendError,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client.js';
export { fullJitterDelay, type BackoffOptions } from './backoff.js';
export { applyReaction } from './reactions.js';
export { Emitter } from './emitter.js';
