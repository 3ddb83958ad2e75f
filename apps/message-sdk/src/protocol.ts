// The WebSocket protocol of docs/protocol.md as types: the server and the SDK both compile against
// these, so a frame cannot drift on one side only.

export interface ReactionMap {
  [emoji: string]: string[];
}

/** A message as clients see it; a deleted one is a tombstone (body empty, no reactions). */
export interface MessageView {
  id: string;
  channelId: string;
  seq: number;
  senderId: string;
  clientMessageId: string;
  body: string;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
  reactions: ReactionMap;
  /** 1 at creation, +1 per change: keep the highest. */
  version: number;
}

export const messageEventTypes = [
  'message.created',
  'message.edited',
  'message.deleted',
  // Versions made by reactions before reactions became their own documents (now a ReactionEvent).
  'reaction.added',
  'reaction.removed',
] as const;
export type MessageEventType = (typeof messageEventTypes)[number];

export interface MessageEvent {
  type: MessageEventType;
  channelId: string;
  seq: number;
  version: number;
  /** Server time of the change (ISO 8601). */
  at: string;
  message: MessageView;
}

export interface ChannelDeletedEvent {
  type: 'channel.deleted';
  channelId: string;
  /** Auth's deletion seq. */
  seq: number;
  at: string;
}

/**
 * One reaction added or removed: the delta, not the message (reactions do not change the message's
 * version). Apply it with `applyReaction`; `count` is the emoji's count on the message right after.
 */
export interface ReactionEvent {
  type: 'reaction.changed';
  channelId: string;
  /** The message's seq and id. */
  seq: number;
  messageId: string;
  emoji: string;
  userId: string;
  change: 'added' | 'removed';
  count: number;
  at: string;
}

export type ChatEvent = MessageEvent | ChannelDeletedEvent | ReactionEvent;

// ---- client → server ----
/**
 * The first frame of a connection whose upgrade carried no token (what the SDK sends): the token
 * stays out of the URL. Nothing else is accepted before it; the server answers `hello`.
 */
export interface AuthFrame {
  type: 'auth';
  token: string;
}
export interface SubscribeFrame {
  type: 'subscribe';
  channelId: string;
  lastSeq?: number;
  since?: string;
  /** The epoch `lastSeq` belongs to (from the last `subscribed`); another epoch means no recovery. */
  epoch?: string;
}
export interface UnsubscribeFrame {
  type: 'unsubscribe';
  channelId: string;
}
export interface SendFrame {
  type: 'send';
  channelId: string;
  clientMessageId: string;
  body: string;
}
/** The client processed every event of `channelId` up to `seq`. */
export interface AckPosition {
  channelId: string;
  seq: number;
}
/** Positions of every channel that moved, in one frame (what the SDK sends, every few seconds). */
export interface CoalescedAckFrame {
  type: 'ack';
  acks: AckPosition[];
}
/** One channel's position (older clients; still accepted). */
export interface ChannelAckFrame extends AckPosition {
  type: 'ack';
}
export type ClientAckFrame = CoalescedAckFrame | ChannelAckFrame;
/** The most positions one coalesced ack carries. */
export const maxAckPositions = 500;
export interface PingFrame {
  type: 'ping';
  id?: string;
}
export type ClientFrame = SubscribeFrame | UnsubscribeFrame | SendFrame | ClientAckFrame | PingFrame;

// ---- server → client ----
export interface HelloFrame {
  type: 'hello';
  connectionId: string;
  instanceId: string;
  userId: string;
  heartbeatMs: number;
  idleTimeoutMs: number;
  maxPayloadBytes: number;
}
export interface EventFrame {
  type: 'event';
  event: ChatEvent;
}
export interface SubscribedFrame {
  type: 'subscribed';
  channelId: string;
  seq: number;
  /** The channel's epoch; absent while the server cannot tell it (Redis away). */
  epoch?: string;
  /**
   * False when the client's position belonged to another epoch (history restored or reset): nothing
   * was replayed, `seq` is the channel's current position, and the client reloads history.
   */
  recovered: boolean;
}
export type UnsubscribeReason = 'client' | 'membership.removed' | 'channel.deleted';
export interface UnsubscribedFrame {
  type: 'unsubscribed';
  channelId: string;
  reason: UnsubscribeReason;
}
export interface SendAckFrame {
  type: 'ack';
  channelId: string;
  clientMessageId: string;
  seq: number;
  messageId: string;
  createdAt: string;
  duplicate: boolean;
}
export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
  ref?: string;
  channelId?: string;
  retryAfterSeconds?: number;
}
export interface ReconnectFrame {
  type: 'reconnect';
  reason: string;
  delayMs: number;
}
export interface PongFrame {
  type: 'pong';
  id?: string;
}
export type ServerFrame =
  | HelloFrame
  | EventFrame
  | SubscribedFrame
  | UnsubscribedFrame
  | SendAckFrame
  | ErrorFrame
  | ReconnectFrame
  | PongFrame;

/** Close codes of docs/protocol.md. */
export const CloseCode = {
  normal: 1000,
  tooBig: 1009,
  internalError: 1011,
  serviceRestart: 1012,
  tryAgainLater: 1013,
  idle: 4000,
  tokenExpired: 4001,
  unauthenticated: 4003,
  slowConsumer: 4008,
} as const;

/** The WebSocket subprotocol; offer it beside `bearer.<jwt>` to authenticate in the handshake. */
export const wsSubprotocol = 'chatcluster.v1';
export const wsBearerPrefix = 'bearer.';

/** clientMessageId syntax; `~` is reserved for the server's hole markers. */
export const clientMessageIdPattern = /^[A-Za-z0-9_\-:.]{1,64}$/;
export const maxBodyLength = 4000;
