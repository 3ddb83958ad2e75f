// A chat user on the SDK (over the `ws` package, as a Node app would run it) that records what it
// receives: new messages per channel, updates, and which instance served each connection.
import { WebSocket } from 'ws';
import {
  ChatClient,
  type MessageEvent,
  type ReactionEvent,
  type SendAckFrame,
  type WebSocketConstructor,
} from '@chatcluster/message-sdk';
import { eventually } from '@chatcluster/harness';

export function wsUrl(httpUrl: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}/ws`;
}

export interface ChatUserOptions {
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class ChatUser {
  readonly client: ChatClient;
  /** Every `message` event per channel, in arrival order. */
  readonly messages = new Map<string, MessageEvent[]>();
  readonly updates: MessageEvent[] = [];
  /** Reaction deltas, in arrival order. */
  readonly reactions: ReactionEvent[] = [];
  /** The instance of each connection, in order. */
  readonly instances: string[] = [];
  /** `reconnect` notices received (an instance going away), with their delay. */
  readonly notices: number[] = [];

  constructor(
    messageUrl: string | string[],
    token: string | (() => string | Promise<string>),
    options: ChatUserOptions = {},
  ) {
    this.client = new ChatClient({
      urls: (Array.isArray(messageUrl) ? messageUrl : [messageUrl]).map(wsUrl),
      token,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      minBackoffMs: options.minBackoffMs ?? 200,
      maxBackoffMs: options.maxBackoffMs ?? 2_000,
    });
    this.client.on('message', (e) => {
      let list = this.messages.get(e.channelId);
      if (!list) this.messages.set(e.channelId, (list = []));
      list.push(e);
    });
    this.client.on('update', (e) => this.updates.push(e));
    this.client.on('reaction', (e) => this.reactions.push(e));
    this.client.on('open', (id) => this.instances.push(id));
    this.client.on('reconnectNotice', (delayMs) => this.notices.push(delayMs));
  }

  received(channelId: string): MessageEvent[] {
    return this.messages.get(channelId) ?? [];
  }

  /** Connects and resolves once the server said hello; returns the instance id. */
  async open(timeoutMs = 20_000): Promise<string> {
    if (this.client.state !== 'open') {
      const opened = new Promise<void>((resolve) => {
        const off = this.client.on('open', () => {
          off();
          resolve();
        });
      });
      this.client.connect();
      await Promise.race([
        opened,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`no hello within ${timeoutMs} ms`)), timeoutMs).unref(),
        ),
      ]);
    }
    return this.client.instanceId!;
  }

  /** Subscribes and resolves once the replay is over (`subscribed`). */
  async subscribe(channelId: string, timeoutMs = 20_000): Promise<number> {
    const done = new Promise<number>((resolve) => {
      const off = this.client.on('subscribed', (id, seq) => {
        if (id !== channelId) return;
        off();
        resolve(seq);
      });
    });
    this.client.subscribe(channelId);
    return Promise.race([
      done,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`not subscribed within ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
  }

  send(channelId: string, body: string, clientMessageId?: string): Promise<SendAckFrame> {
    return this.client.send(channelId, body, clientMessageId);
  }

  /** Waits until the channel's messages satisfy `ok`. */
  async waitForMessages(
    channelId: string,
    what: string,
    ok: (messages: MessageEvent[]) => boolean,
    timeoutMs = 20_000,
  ): Promise<MessageEvent[]> {
    return eventually(what, () => ok(this.received(channelId)) && this.received(channelId), timeoutMs, 50);
  }

  /** Waits for an update of the message at `seq` that satisfies `ok`. */
  async waitForUpdate(
    channelId: string,
    seq: number,
    what: string,
    ok: (event: MessageEvent) => boolean,
    timeoutMs = 20_000,
  ): Promise<MessageEvent> {
    return eventually(
      what,
      () => this.updates.find((u) => u.channelId === channelId && u.message.seq === seq && ok(u)),
      timeoutMs,
      50,
    );
  }

  /** Waits for a reaction delta on the message at `seq` that satisfies `ok`. */
  async waitForReaction(
    channelId: string,
    seq: number,
    what: string,
    ok: (event: ReactionEvent) => boolean,
    timeoutMs = 20_000,
  ): Promise<ReactionEvent> {
    return eventually(
      what,
      () => this.reactions.find((r) => r.channelId === channelId && r.seq === seq && ok(r)),
      timeoutMs,
      50,
    );
  }

  close(): void {
    this.client.close();
  }
}
