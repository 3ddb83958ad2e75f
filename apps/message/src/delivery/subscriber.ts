// One client's subscription to one channel, as the delivery layer sees it.
import type { MessageEvent, UnsubscribeReason } from '@chatcluster/message-sdk';
import type { ReactionFrame } from './reaction-frame.js';

export interface Subscriber {
  readonly channelId: string;
  readonly userId: string;
  /** Highest message seq this subscription has been sent (creations only). */
  cursor: number;
  /** False while replaying from the store; mutations are queued until then. */
  live: boolean;
  readonly queued: MessageEvent[];
  readonly closed: boolean;
  /** `created`: first time this subscriber sees the message; `mutation`: a change of one it has. */
  send(event: MessageEvent, kind: 'created' | 'mutation'): void;
  /** A reaction delta about a message this subscriber has (one frame shared by every recipient). */
  sendReaction(frame: ReactionFrame): void;
  /** The server ended the subscription. */
  end(reason: UnsubscribeReason): void;
}
