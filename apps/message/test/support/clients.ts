// Test clients: the SDK over the `ws` package, recording what it received, and a raw socket for
// protocol-level tests.
import { WebSocket } from 'ws';
import {
  ChatClient,
  wsBearerPrefix,
  wsSubprotocol,
  type MessageEvent,
  type ServerFrame,
  type WebSocketConstructor,
} from '@chatcluster/message-sdk';

export function wsUrl(httpUrl: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}/ws`;
}

export class RecordingClient {
  readonly client: ChatClient;
  /** Every `message` event, per channel, in arrival order. */
  readonly messages = new Map<string, MessageEvent[]>();
  readonly updates: MessageEvent[] = [];
  readonly instances: string[] = [];
  readonly notices: number[] = [];
  readonly closeCodes: number[] = [];

  constructor(
    urls: string[],
    token: string | (() => Promise<string>),
    options: { minBackoffMs?: number; maxBackoffMs?: number } = {},
  ) {
    this.client = new ChatClient({
      urls: urls.map(wsUrl),
      token,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      minBackoffMs: options.minBackoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 1_000,
      // Delivery acks only feed a metric; tests read it sooner than the SDK's 5 s.
      ackIntervalMs: 200,
    });
    this.client.on('message', (e) => {
      let list = this.messages.get(e.channelId);
      if (!list) this.messages.set(e.channelId, (list = []));
      list.push(e);
    });
    this.client.on('update', (e) => this.updates.push(e));
    this.client.on('open', (id) => this.instances.push(id));
    this.client.on('reconnectNotice', (ms) => this.notices.push(ms));
    this.client.on('close', (code) => this.closeCodes.push(code));
  }

  received(channelId: string): MessageEvent[] {
    return this.messages.get(channelId) ?? [];
  }

  /** Resolves once connected (hello received). */
  async open(): Promise<void> {
    if (this.client.state === 'open') return;
    await new Promise<void>((resolve) => {
      const off = this.client.on('open', () => {
        off();
        resolve();
      });
      this.client.connect();
    });
  }

  async subscribed(channelId: string): Promise<void> {
    await new Promise<void>((resolve) => {
      const off = this.client.on('subscribed', (id) => {
        if (id !== channelId) return;
        off();
        resolve();
      });
      this.client.subscribe(channelId);
    });
  }

  close(): void {
    this.client.close();
  }
}

/**
 * How a raw socket presents its token: the first frame (what the SDK does), the subprotocol, the
 * Authorization header, or the deprecated query parameter.
 */
export type WsAuth = 'frame' | 'protocol' | 'header' | 'query';

/** A bare protocol client: sends what it is told, records every frame. */
export class RawSocket {
  readonly frames: ServerFrame[] = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  readonly #waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.frames.push(JSON.parse((data as Buffer).toString('utf8')) as ServerFrame);
      for (const w of this.#waiters) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        for (const w of this.#waiters) w();
        resolve(code);
      }),
    );
  }

  static open(
    httpUrl: string,
    token: string | null,
    auth: WsAuth = 'frame',
    options: { autoPong?: boolean } = {},
  ): Promise<RawSocket> {
    const url =
      token && auth === 'query'
        ? `${wsUrl(httpUrl)}?access_token=${encodeURIComponent(token)}`
        : wsUrl(httpUrl);
    return new Promise((resolve, reject) => {
      const ws =
        token && auth === 'protocol'
          ? new WebSocket(url, [wsSubprotocol, `${wsBearerPrefix}${token}`], options)
          : new WebSocket(url, {
              ...options,
              ...(token && auth === 'header' ? { headers: { authorization: `Bearer ${token}` } } : {}),
            });
      const raw = new RawSocket(ws);
      ws.once('open', () => {
        if (token && auth === 'frame') ws.send(JSON.stringify({ type: 'auth', token }));
        resolve(raw);
      });
      ws.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })),
      );
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (from index `from`) matching `match`, waiting up to `timeoutMs`. */
  async next<F extends ServerFrame>(
    match: (f: ServerFrame) => f is F,
    timeoutMs?: number,
    from?: number,
  ): Promise<F>;
  async next(match: (f: ServerFrame) => boolean, timeoutMs?: number, from?: number): Promise<ServerFrame>;
  async next(match: (f: ServerFrame) => boolean, timeoutMs = 10_000, from = 0): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (Date.now() > deadline || this.closeCode !== undefined) {
        throw new Error(
          `no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const w = () => {
          this.#waiters.delete(w);
          resolve();
        };
        this.#waiters.add(w);
        setTimeout(w, 100);
      });
    }
  }

  close(): void {
    this.ws.terminate();
  }
}
