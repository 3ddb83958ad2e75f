// The WebSocket endpoint /ws: authentication (at upgrade or by the first frame, ws/handshake.ts),
// connections, heartbeat and idle timeout, and the graceful drain on shutdown (reconnect notice with
// a jittered delay, then close 1012).
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { JwksVerifier } from '@chatcluster/auth-client';
import type { Health } from '@chatcluster/kit';
import { CloseCode } from '@chatcluster/message-sdk';
import type { Presence } from '../presence.js';
import { Connection, type ConnectionDeps } from './connection.js';
import {
  authenticateFirstFrame,
  selectProtocol,
  upgradeToken,
  verifyToken,
  type Claims,
  type Frame,
} from './handshake.js';

export interface WsServerOptions extends ConnectionDeps {
  server: Server;
  verifier: JwksVerifier;
  health: Health;
  presence: Presence;
  instanceId: string;
  maxPayloadBytes: number;
  heartbeatMs: number;
  idleTimeoutMs: number;
  /** How long a socket upgraded without a token has to send its `auth` frame. */
  authTimeoutMs: number;
  /** Deprecated: accept the token in the `access_token` query parameter (it ends up in access logs). */
  queryTokenEnabled: boolean;
}

/**
 * Token expiries, one timer per distinct `exp` (whole seconds in practice), not one per connection:
 * a Timeout and its closure cost ~0.25 KB per connection, and the tokens of a reconnecting crowd
 * expire in a handful of seconds. Each connection is still closed at its token's `exp`.
 */
class Expiries {
  readonly #byExp = new Map<number, { timer: NodeJS.Timeout; connections: Set<Connection> }>();

  constructor(private readonly expire: (connection: Connection) => void) {}

  add(connection: Connection, exp: number): void {
    let entry = this.#byExp.get(exp);
    if (!entry) {
      const timer = setTimeout(() => this.#fire(exp), Math.max(0, exp * 1000 - Date.now()));
      timer.unref();
      entry = { timer, connections: new Set() };
      this.#byExp.set(exp, entry);
    }
    entry.connections.add(connection);
  }

  delete(connection: Connection, exp: number): void {
    const entry = this.#byExp.get(exp);
    if (!entry?.connections.delete(connection) || entry.connections.size > 0) return;
    clearTimeout(entry.timer);
    this.#byExp.delete(exp);
  }

  #fire(exp: number): void {
    const entry = this.#byExp.get(exp);
    this.#byExp.delete(exp);
    for (const connection of entry?.connections ?? []) this.expire(connection);
  }
}

/** What the listeners of an open socket need (see WsServer.#open). */
interface Opened {
  server: WsServer;
  connection: Connection;
  /** The token's expiry, the key of its entry in Expiries. */
  exp: number;
}

export class WsServer {
  readonly #wss: WebSocketServer;
  readonly connections = new Set<Connection>();
  /** Upgraded sockets still waiting for their `auth` frame. */
  readonly #unauthenticated = new Set<WebSocket>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #expiries = new Expiries((c) => c.close(CloseCode.tokenExpired, 'token expired', 'token_expired'));
  #draining = false;

  constructor(private readonly options: WsServerOptions) {
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes,
      perMessageDeflate: false,
      handleProtocols: selectProtocol,
      // `connections` and `#unauthenticated` track the sockets; ws' own set would add a second
      // `close` listener and a set entry to every connection.
      clientTracking: false,
    });
    options.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined);
      void this.#upgrade(req, socket, head);
    });
    this.#heartbeat = setInterval(() => this.#beat(), Math.min(options.heartbeatMs, options.idleTimeoutMs));
    this.#heartbeat.unref();
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws') return refuse(socket, 404, 'ROUTE_NOT_FOUND');
    if (this.#draining || this.options.health.shuttingDown) return refuse(socket, 503, 'SHUTTING_DOWN');
    const found = upgradeToken(req, url, this.options.queryTokenEnabled);
    if (found.kind === 'refused') return refuse(socket, found.status, found.code);
    if (found.kind === 'first-frame') {
      this.#wss.handleUpgrade(req, socket, head, (ws) => void this.#authenticate(ws, socket));
      return;
    }
    const verified = await verifyToken(this.options.verifier, found.token);
    if (!verified.ok) {
      return verified.unavailable
        ? refuse(socket, 503, 'MSG_AUTH_UNAVAILABLE')
        : refuse(socket, 401, 'UNAUTHENTICATED');
    }
    if (this.#draining) return refuse(socket, 503, 'SHUTTING_DOWN');
    const { sub, exp } = verified.claims;
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#open(ws, socket, { sub, exp }, []));
  }

  async #authenticate(ws: WebSocket, socket: Duplex): Promise<void> {
    this.#unauthenticated.add(ws);
    const result = await authenticateFirstFrame(ws, this.options.verifier, this.options.authTimeoutMs);
    this.#unauthenticated.delete(ws);
    if (!result) return;
    if (this.#draining) return ws.close(CloseCode.serviceRestart, 'service restart');
    // Only what the connection needs: the token's other claims are not kept for its whole life.
    const { sub, exp } = result.claims;
    this.#open(ws, socket, { sub, exp }, result.early);
  }

  /**
   * The socket's listeners are shared by every socket (`this` is the socket; what they need is in
   * `#opened`): four closures and their context per connection cost ~0.3 KB, an entry ~0.07 KB. They
   * keep nothing else of the handshake (claims, early frames).
   */
  #open(ws: WebSocket, socket: Duplex, claims: Claims, early: readonly Frame[]): void {
    const { metrics } = this.options;
    const userId = claims.sub;
    const connection = new Connection(ws, socket, userId, this.options);
    this.connections.add(connection);
    metrics.connections.inc();
    metrics.connectionsOpened.inc();
    this.options.presence.connected(userId);
    this.#expiries.add(connection, claims.exp);
    WsServer.#opened.set(ws, { server: this, connection, exp: claims.exp });
    ws.on('pong', WsServer.#onPong);
    ws.on('message', WsServer.#onMessage);
    ws.on('error', WsServer.#onError);
    ws.on('close', WsServer.#onClose);
    connection.send({
      type: 'hello',
      connectionId: connection.id,
      instanceId: this.options.instanceId,
      userId,
      heartbeatMs: this.options.heartbeatMs,
      idleTimeoutMs: this.options.idleTimeoutMs,
      maxPayloadBytes: this.options.maxPayloadBytes,
    });
    for (const [data, isBinary] of early) connection.onMessage(data, isBinary);
  }

  static readonly #opened = new WeakMap<WebSocket, Opened>();

  static #onPong(this: WebSocket): void {
    const opened = WsServer.#opened.get(this);
    if (opened) opened.connection.alive = true;
  }

  static #onMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
    WsServer.#opened.get(this)?.connection.onMessage(data, isBinary);
  }

  static #onError(this: WebSocket, err: Error & { code?: string }): void {
    const connection = WsServer.#opened.get(this)?.connection;
    if (!connection) return;
    // ws reports an oversize frame as an error and closes with 1009.
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') connection.closeReason ??= 'too_big';
    else connection.closeReason ??= 'error';
  }

  static #onClose(this: WebSocket, code: number): void {
    const opened = WsServer.#opened.get(this);
    if (!opened) return;
    WsServer.#opened.delete(this);
    const { server, connection, exp } = opened;
    const { metrics, presence } = server.options;
    server.#expiries.delete(connection, exp);
    server.connections.delete(connection);
    connection.cleanup();
    metrics.connections.dec();
    const reason = connection.closeReason ?? (code === 1000 || code === 1001 ? 'client' : 'error');
    metrics.connectionsClosed.inc({ reason });
    presence.disconnected(connection.userId);
  }

  /** Pings everyone; terminates who did not answer the last ping; closes who sent nothing for too long. */
  #beat(): void {
    const now = Date.now();
    for (const c of this.connections) {
      if (c.closed) continue;
      if (now - c.lastFrameAt > this.options.idleTimeoutMs) {
        c.close(CloseCode.idle, 'idle timeout', 'idle');
        continue;
      }
      if (!c.alive) {
        c.closeReason = 'heartbeat';
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }

  /**
   * Shutdown: refuse upgrades, tell every client to reconnect after a random delay in [0, spreadMs]
   * (so they do not stampede the survivors), close with 1012, wait until they left or `deadline`.
   */
  async drain(spreadMs: number, deadline: number): Promise<void> {
    this.#draining = true;
    clearInterval(this.#heartbeat);
    for (const ws of this.#unauthenticated) ws.close(CloseCode.serviceRestart, 'service restart');
    for (const c of this.connections) {
      c.send({ type: 'reconnect', reason: 'shutdown', delayMs: Math.floor(Math.random() * spreadMs) });
      c.close(CloseCode.serviceRestart, 'service restart', 'shutdown');
    }
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const c of this.connections) c.ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

function refuse(socket: Duplex, status: number, code: string): void {
  const body = JSON.stringify({ error: { code, message: code.toLowerCase().replace(/_/g, ' ') } });
  const text =
    { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 503: 'Service Unavailable' }[status] ??
    'Error';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `${status === 503 ? 'Retry-After: 1\r\n' : ''}Connection: close\r\n\r\n${body}`,
  );
}
