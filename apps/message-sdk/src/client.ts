// The client: one WebSocket, reconnected with full-jitter backoff (or after a server's reconnect
// notice), every channel resumed from its last seq, every send repeated with its clientMessageId
// until the server acknowledges it (docs/protocol.md, "The SDK").
import { fullJitterDelay } from './backoff.js';
import { Emitter } from './emitter.js';
import type { AuthFrame } from './protocol.js';
import { maxAckPositions } from './protocol.js';
import type {
  AckPosition,
  ChatEvent,
  ClientFrame,
  ErrorFrame,
  MessageEvent,
  ReactionEvent,
  SendAckFrame,
  ServerFrame,
  SubscribedFrame,
  UnsubscribeReason,
} from './protocol.js';

/** The part of the WebSocket API the client uses (browsers' WebSocket and the `ws` package both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ChatClientOptions {
  /** e.g. `ws://localhost:8082/ws`; with `urls`, tried in turn on each reconnect. */
  url?: string;
  urls?: string[];
  /** The access token, or a function returning a fresh one (called on every connect). */
  token: string | (() => string | Promise<string>);
  /** The WebSocket class; the global one by default (browsers, Node >= 22). */
  WebSocket?: WebSocketConstructor;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** App-level ping interval; browsers cannot see WebSocket pings. */
  pingIntervalMs?: number;
  /** Silence longer than this means the connection is dead. */
  deadAfterMs?: number;
  /** How often delivery acks are sent: one frame for every channel that moved (default 5 s). */
  ackIntervalMs?: number;
  random?: () => number;
}

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface SendError extends Error {
  code: string;
}

export interface ChatClientEvents {
  state: (state: ConnectionState) => void;
  /** A message new to this client, in seq order per channel. */
  message: (event: MessageEvent) => void;
  /** A newer version of a message already delivered (edit, delete). */
  update: (event: MessageEvent) => void;
  /**
   * A reaction added or removed on a message of a subscribed channel: apply it with
   * `applyReaction` to the reactions shown (message events carry none; history reads do).
   */
  reaction: (event: ReactionEvent) => void;
  /**
   * Replay is over. `recovered: false`: the position was of another epoch (the channel's history was
   * restored or reset): nothing was replayed and `seq` is the new position; reload the history.
   */
  subscribed: (
    channelId: string,
    seq: number,
    position: { recovered: boolean; epoch: string | null },
  ) => void;
  unsubscribed: (channelId: string, reason: UnsubscribeReason) => void;
  channelDeleted: (event: ChatEvent) => void;
  ack: (ack: SendAckFrame) => void;
  error: (error: ErrorFrame) => void;
  reconnectNotice: (delayMs: number, reason: string) => void;
  /** The connection is up and `hello` arrived; `instanceId` names the server instance. */
  open: (instanceId: string) => void;
  close: (code: number, reason: string) => void;
}

interface ChannelState {
  lastSeq: number;
  /** The epoch `lastSeq` belongs to (null until the server named one). */
  epoch: string | null;
  /** Server time of the newest event seen, for resuming changes. */
  since: string | null;
  versions: Map<number, number>;
  subscribed: boolean;
  retryTimer?: ReturnType<typeof setTimeout>;
  /** The position last acknowledged to the server. */
  ackedSeq: number;
}

interface PendingSend {
  channelId: string;
  clientMessageId: string;
  body: string;
  resolve: (ack: SendAckFrame) => void;
  reject: (err: SendError) => void;
  retryTimer?: ReturnType<typeof setTimeout>;
}

/** Errors worth repeating the same frame for (after retryAfterSeconds). */
const retryableCodes = new Set([
  'RATE_LIMITED',
  'MSG_STORE_UNAVAILABLE',
  'MSG_AUTH_UNAVAILABLE',
  'SHUTTING_DOWN',
  'INTERNAL',
  'CIRCUIT_OPEN',
  'TIMEOUT',
]);
const OPEN = 1;
const maxVersionsKept = 5_000;

function newId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

export class ChatClient extends Emitter<ChatClientEvents> {
  #state: ConnectionState = 'idle';
  #ws: WebSocketLike | null = null;
  #attempt = 0;
  #urlIndex = 0;
  #noticeDelayMs: number | null = null;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #lastFrameAt = 0;
  #instanceId: string | null = null;
  readonly #channels = new Map<string, ChannelState>();
  readonly #pending = new Map<string, PendingSend>();
  readonly #urls: string[];
  readonly #WebSocket: WebSocketConstructor;
  readonly #options: Required<
    Pick<
      ChatClientOptions,
      'minBackoffMs' | 'maxBackoffMs' | 'pingIntervalMs' | 'deadAfterMs' | 'ackIntervalMs' | 'random'
    >
  >;
  /** Reconnections so far (for pages and tests). */
  reconnects = 0;

  constructor(private readonly options: ChatClientOptions) {
    super();
    this.#urls = options.urls ?? (options.url ? [options.url] : []);
    if (this.#urls.length === 0) throw new TypeError('ChatClient needs url or urls');
    const ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!ctor)
      throw new TypeError('no WebSocket implementation: pass options.WebSocket (e.g. from the ws package)');
    this.#WebSocket = ctor;
    this.#options = {
      minBackoffMs: options.minBackoffMs ?? 1_000,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      pingIntervalMs: options.pingIntervalMs ?? 25_000,
      deadAfterMs: options.deadAfterMs ?? 60_000,
      ackIntervalMs: options.ackIntervalMs ?? 5_000,
      random: options.random ?? Math.random,
    };
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The server instance of the current connection. */
  get instanceId(): string | null {
    return this.#instanceId;
  }

  lastSeq(channelId: string): number {
    return this.#channels.get(channelId)?.lastSeq ?? 0;
  }

  /** The epoch lastSeq belongs to: pass it with lastSeq to resume elsewhere. */
  epoch(channelId: string): string | null {
    return this.#channels.get(channelId)?.epoch ?? null;
  }

  /** Server time of the newest event seen in the channel: pass it with lastSeq to resume elsewhere. */
  since(channelId: string): string | null {
    return this.#channels.get(channelId)?.since ?? null;
  }

  /** Sends waiting for their acknowledgement. */
  get unacknowledged(): number {
    return this.#pending.size;
  }

  connect(): void {
    if (this.#state !== 'idle' && this.#state !== 'closed') return;
    this.#open();
  }

  /** Closes for good: no reconnect; pending sends are rejected. */
  close(): void {
    this.#setState('closed');
    clearTimeout(this.#reconnectTimer);
    this.#stopTimers();
    const ws = this.#ws;
    this.#ws = null;
    ws?.close(1000, 'client closed');
    for (const p of this.#pending.values()) {
      clearTimeout(p.retryTimer);
      p.reject(sendError('CLIENT_CLOSED', 'the client was closed before the message was acknowledged'));
    }
    this.#pending.clear();
    for (const ch of this.#channels.values()) clearTimeout(ch.retryTimer);
  }

  /** Subscribes (now and after every reconnect) from `lastSeq` (default: what this client has seen). */
  subscribe(channelId: string, options: { lastSeq?: number; since?: string; epoch?: string } = {}): void {
    let ch = this.#channels.get(channelId);
    if (!ch)
      this.#channels.set(
        channelId,
        (ch = { lastSeq: 0, epoch: null, since: null, versions: new Map(), subscribed: true, ackedSeq: 0 }),
      );
    ch.subscribed = true;
    if (options.lastSeq !== undefined) ch.lastSeq = options.lastSeq;
    if (options.since !== undefined) ch.since = options.since;
    if (options.epoch !== undefined) ch.epoch = options.epoch;
    this.#sendSubscribe(channelId);
  }

  unsubscribe(channelId: string): void {
    const ch = this.#channels.get(channelId);
    if (!ch) return;
    clearTimeout(ch.retryTimer);
    this.#channels.delete(channelId);
    this.#frame({ type: 'unsubscribe', channelId });
  }

  /**
   * Sends a message and resolves once the server stored it, repeating it after reconnects and
   * retryable errors with the same clientMessageId (so it is stored once). Rejects on a final error.
   */
  send(channelId: string, body: string, clientMessageId: string = newId()): Promise<SendAckFrame> {
    const existing = this.#pending.get(clientMessageId);
    if (existing)
      return Promise.reject(sendError('DUPLICATE_PENDING', `${clientMessageId} is already being sent`));
    return new Promise((resolve, reject) => {
      const p: PendingSend = { channelId, clientMessageId, body, resolve, reject };
      this.#pending.set(clientMessageId, p);
      this.#transmit(p);
    });
  }

  #transmit(p: PendingSend): void {
    this.#frame({ type: 'send', channelId: p.channelId, clientMessageId: p.clientMessageId, body: p.body });
  }

  #sendSubscribe(channelId: string): void {
    const ch = this.#channels.get(channelId);
    if (!ch) return;
    this.#frame({
      type: 'subscribe',
      channelId,
      lastSeq: ch.lastSeq,
      ...(ch.since ? { since: ch.since } : {}),
      ...(ch.epoch ? { epoch: ch.epoch } : {}),
    });
  }

  /** Sends when open; otherwise the frame is implied by the state replayed on the next open. */
  #frame(frame: ClientFrame): void {
    if (this.#ws && this.#ws.readyState === OPEN && this.#state === 'open')
      this.#ws.send(JSON.stringify(frame));
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }

  #open(): void {
    this.#setState(this.#attempt === 0 && this.reconnects === 0 ? 'connecting' : 'reconnecting');
    const url = this.#urls[this.#urlIndex % this.#urls.length]!;
    void Promise.resolve(
      typeof this.options.token === 'function' ? this.options.token() : this.options.token,
    ).then(
      (token) => {
        if (this.#state === 'closed') return;
        let ws: WebSocketLike;
        try {
          ws = new this.#WebSocket(url);
        } catch {
          this.#scheduleReconnect();
          return;
        }
        this.#ws = ws;
        // The token goes in the first frame: a URL ends up in proxies' access logs.
        const auth: AuthFrame = { type: 'auth', token };
        ws.onopen = () => {
          if (this.#ws === ws) ws.send(JSON.stringify(auth));
        };
        ws.onmessage = (ev) => {
          if (this.#ws === ws) this.#onFrame(ev.data);
        };
        ws.onclose = (ev) => {
          if (this.#ws !== ws) return;
          this.#ws = null;
          this.#stopTimers();
          this.emit('close', ev.code, ev.reason);
          if (this.#state !== 'closed') this.#scheduleReconnect();
        };
        ws.onerror = () => undefined;
      },
      () => this.#scheduleReconnect(),
    );
  }

  #scheduleReconnect(): void {
    if (this.#state === 'closed') return;
    this.#setState('reconnecting');
    // Another instance may be the one that is up (the one we were on may be gone).
    this.#urlIndex++;
    const delay =
      this.#noticeDelayMs ??
      fullJitterDelay(this.#attempt, {
        minMs: this.#options.minBackoffMs,
        maxMs: this.#options.maxBackoffMs,
        random: this.#options.random,
      });
    this.#noticeDelayMs = null;
    this.#attempt++;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => {
      this.reconnects++;
      this.#open();
    }, delay);
  }

  #onOpen(instanceId: string): void {
    this.#attempt = 0;
    this.#instanceId = instanceId;
    this.#lastFrameAt = Date.now();
    this.#setState('open');
    this.#pingTimer = setInterval(
      () => {
        if (Date.now() - this.#lastFrameAt > this.#options.deadAfterMs) {
          // Silent too long: drop it and reconnect.
          const ws = this.#ws;
          this.#ws = null;
          this.#stopTimers();
          ws?.close(1000, 'dead connection');
          this.#scheduleReconnect();
          return;
        }
        this.#frame({ type: 'ping' });
      },
      Math.min(this.#options.pingIntervalMs, this.#options.deadAfterMs / 2),
    );
    for (const [channelId, ch] of this.#channels) if (ch.subscribed) this.#sendSubscribe(channelId);
    for (const p of this.#pending.values()) {
      clearTimeout(p.retryTimer);
      this.#transmit(p);
    }
    this.emit('open', instanceId);
  }

  #stopTimers(): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
  }

  #onFrame(data: unknown): void {
    this.#lastFrameAt = Date.now();
    let frame: ServerFrame;
    try {
      frame = JSON.parse(typeof data === 'string' ? data : String(data)) as ServerFrame;
    } catch {
      return;
    }
    switch (frame.type) {
      case 'hello':
        return this.#onOpen(frame.instanceId);
      case 'event':
        return this.#onEvent(frame.event);
      case 'subscribed':
        return this.#onSubscribed(frame);
      case 'unsubscribed':
        if (frame.reason !== 'client') this.#channels.delete(frame.channelId);
        this.emit('unsubscribed', frame.channelId, frame.reason);
        return;
      case 'ack': {
        const p = this.#pending.get(frame.clientMessageId);
        if (p) {
          this.#pending.delete(frame.clientMessageId);
          clearTimeout(p.retryTimer);
          p.resolve(frame);
        }
        this.emit('ack', frame);
        return;
      }
      case 'error':
        return this.#onError(frame);
      case 'reconnect':
        this.#noticeDelayMs = frame.delayMs;
        this.emit('reconnectNotice', frame.delayMs, frame.reason);
        return;
      case 'pong':
        return;
    }
  }

  #onSubscribed(frame: SubscribedFrame): void {
    const ch = this.#channels.get(frame.channelId);
    const recovered = frame.recovered !== false;
    if (ch) {
      if (!recovered) {
        // Seqs of the old epoch mean nothing now: without this, the new epoch's messages, whose seqs
        // may be lower, would be dropped as already seen.
        ch.lastSeq = frame.seq;
        ch.since = null;
        ch.versions.clear();
      }
      if (frame.epoch) ch.epoch = frame.epoch;
    }
    this.emit('subscribed', frame.channelId, frame.seq, { recovered, epoch: frame.epoch ?? null });
  }

  #onEvent(event: ChatEvent): void {
    if (event.type === 'channel.deleted') {
      this.#channels.delete(event.channelId);
      this.emit('channelDeleted', event);
      return;
    }
    const ch = this.#channels.get(event.channelId);
    if (!ch) return;
    // A delta, live only and outside the seq order: it neither moves `since` nor is acknowledged.
    if (event.type === 'reaction.changed') {
      this.emit('reaction', event);
      return;
    }
    if (!ch.since || event.at > ch.since) ch.since = event.at;
    const known = ch.versions.get(event.seq);
    if (event.type === 'message.created') {
      // The server sends each seq once per subscription; across resumes this check keeps it once.
      if (event.seq <= ch.lastSeq) {
        if (known === undefined || event.version > known) this.#remember(ch, event);
        return;
      }
      ch.lastSeq = event.seq;
      this.#remember(ch, event);
      this.emit('message', event);
    } else {
      if (known !== undefined && known >= event.version) return;
      this.#remember(ch, event);
      this.emit('update', event);
    }
    this.#scheduleAck();
  }

  #remember(ch: ChannelState, event: MessageEvent): void {
    ch.versions.set(event.seq, event.version);
    if (ch.versions.size > maxVersionsKept) ch.versions.delete(ch.versions.keys().next().value!);
  }

  /**
   * Tells the server what was processed, every ackIntervalMs at most, in one frame for every channel
   * that moved (it only feeds a metric, so it is cheap for both ends rather than prompt).
   */
  #scheduleAck(): void {
    if (this.#ackTimer) return;
    this.#ackTimer = setTimeout(() => {
      this.#ackTimer = undefined;
      const acks: AckPosition[] = [];
      for (const [channelId, ch] of this.#channels) {
        if (ch.lastSeq <= 0 || ch.lastSeq === ch.ackedSeq) continue;
        ch.ackedSeq = ch.lastSeq;
        acks.push({ channelId, seq: ch.lastSeq });
      }
      for (let i = 0; i < acks.length; i += maxAckPositions)
        this.#frame({ type: 'ack', acks: acks.slice(i, i + maxAckPositions) });
    }, this.#options.ackIntervalMs);
  }

  #onError(frame: ErrorFrame): void {
    const retryMs = (frame.retryAfterSeconds ?? 1) * 1000 * (0.5 + this.#options.random() / 2) + 100;
    const p = frame.ref ? this.#pending.get(frame.ref) : undefined;
    if (p) {
      // A send the server asked to repeat later (retryAfterSeconds: any 503, e.g. a bad release's
      // pod) is repeated, as are the known transient codes; anything else is final.
      if (retryableCodes.has(frame.code) || frame.retryAfterSeconds !== undefined) {
        clearTimeout(p.retryTimer);
        p.retryTimer = setTimeout(() => this.#transmit(p), retryMs);
      } else {
        this.#pending.delete(p.clientMessageId);
        p.reject(sendError(frame.code, frame.message));
      }
    } else if (frame.channelId && !frame.ref) {
      const ch = this.#channels.get(frame.channelId);
      if (ch && retryableCodes.has(frame.code)) {
        clearTimeout(ch.retryTimer);
        ch.retryTimer = setTimeout(() => this.#sendSubscribe(frame.channelId!), retryMs);
      } else if (ch) {
        this.#channels.delete(frame.channelId);
      }
    }
    this.emit('error', frame);
  }
}

function sendError(code: string, message: string): SendError {
  return Object.assign(new Error(message), { code });
}
