// One client connection: frames in, frames out, its subscriptions, heartbeat and idle bookkeeping,
// and the slow-consumer bound (docs/protocol.md).
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { isAppError, retryAfterSecondsOf, toAppError, type Logger } from '@chatcluster/kit';
import {
  CloseCode,
  type ClientFrame,
  type MessageEvent,
  type ServerFrame,
  type UnsubscribeReason,
} from '@chatcluster/message-sdk';
import type { Access } from '../access.js';
import type { Hub } from '../delivery/hub.js';
import type { ReactionFrame } from '../delivery/reaction-frame.js';
import type { Subscriber } from '../delivery/subscriber.js';
import type { MessageMetrics } from '../metrics.js';
import type { RateLimiter } from '../rate-limit.js';
import type { SendService } from '../send-service.js';
import { eventWireFrame } from '../delivery/encoding.js';
import { parseFrame } from './frames.js';
import { afterThisTurn, type TurnEnd } from './turn-flush.js';

export interface ConnectionDeps {
  hub: Hub;
  access: Access;
  sends: SendService;
  sendLimiter: RateLimiter;
  metrics: MessageMetrics;
  logger: Logger;
  maxBufferedBytes: number;
}

const corkFlushBytes = 64 * 1024;

class Subscription implements Subscriber {
  cursor: number;
  live = false;
  readonly queued: MessageEvent[] = [];
  #closed = false;
  /** Event frames sent and not yet acknowledged by the client (for the client-acked ratio). */
  #unacked = 0;
  /** The highest seq the client acknowledged. */
  #ackedSeq = 0;

  constructor(
    readonly channelId: string,
    readonly userId: string,
    lastSeq: number,
    private readonly connection: Connection,
  ) {
    this.cursor = lastSeq;
  }

  get closed(): boolean {
    return this.#closed || this.connection.closed;
  }

  close(): void {
    this.#closed = true;
  }

  /** Metrics are the delivery layer's, once per fan-out (delivery/observer.ts). */
  send(event: MessageEvent, kind: 'created' | 'mutation'): void {
    if (this.closed) return;
    this.connection.sendWireFrame(eventWireFrame(event, kind));
    this.#unacked++;
  }

  /** Not counted as unacked: reaction deltas carry no seq of their own to acknowledge. */
  sendReaction(frame: ReactionFrame): void {
    if (this.closed) return;
    this.connection.sendRaw(frame.bytes);
  }

  end(reason: UnsubscribeReason): void {
    if (this.closed) return;
    this.#closed = true;
    this.connection.forget(this);
    this.connection.send({ type: 'unsubscribed', channelId: this.channelId, reason });
  }

  /**
   * The client processed everything up to `seq`; returns how many frames that covers. Exact when the
   * ack reaches the last seq sent (as a coalesced ack after a quiet moment does); below it, at most
   * one frame per seq acknowledged (creations are one per seq, mutations are rarer).
   */
  acked(seq: number): number {
    if (seq <= this.#ackedSeq) return 0;
    const n = seq >= this.cursor ? this.#unacked : Math.min(this.#unacked, seq - this.#ackedSeq);
    this.#ackedSeq = seq;
    this.#unacked -= n;
    return n;
  }
}

export class Connection implements TurnEnd {
  readonly id = randomUUID();
  readonly #subs = new Map<string, Subscription>();
  /** Per channel, the turn of the latest subscribe or unsubscribe frame (see #nextTurn). */
  readonly #turns = new Map<string, number>();
  lastFrameAt = Date.now();
  alive = true;
  closed = false;
  /** Why we closed it, for the closed-connections metric. */
  closeReason: string | undefined;
  /** Corked in this turn of the event loop; and still corked. */
  #corked = false;
  #socketCorked = false;

  /** `socket` is the upgraded TCP socket that `ws` writes to: corking it batches the frames. */
  constructor(
    readonly ws: WebSocket,
    private readonly socket: Pick<Duplex, 'cork' | 'uncork' | 'write'>,
    readonly userId: string,
    readonly deps: ConnectionDeps,
  ) {}

  /** A text frame: a string, or UTF-8 bytes shared with other connections (written as they are). */
  sendRaw(data: string | Buffer): void {
    if (this.closed) return;
    this.#cork();
    this.ws.send(data, { binary: false });
    this.#afterWrite();
  }

  /** A whole WebSocket frame shared with other connections (ws/wire-frame.ts), written as it is. */
  sendWireFrame(frame: Buffer): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.#cork();
    this.socket.write(frame);
    this.#afterWrite();
  }

  #afterWrite(): void {
    // A long replay is not held back: past 64 KiB the corked frames leave at once.
    if (this.#socketCorked && this.ws.bufferedAmount > corkFlushBytes) {
      this.#socketCorked = false;
      this.socket.uncork();
    }
    if (this.ws.bufferedAmount > this.deps.maxBufferedBytes) {
      // The client reads slower than we write: cut it loose (it resumes) instead of buffering forever.
      this.close(CloseCode.slowConsumer, 'slow consumer', 'slow_consumer');
      this.ws.terminate();
    }
  }

  send(frame: ServerFrame): void {
    this.sendRaw(JSON.stringify(frame));
  }

  /**
   * Frames sent to this connection in one turn of the event loop leave in one write: the socket is
   * corked at the first and uncorked after the current work (a fan-out of many events, a replay).
   */
  #cork(): void {
    if (this.#corked) return;
    this.#corked = this.#socketCorked = true;
    this.socket.cork();
    afterThisTurn(this);
  }

  /** The turn that corked the socket is over: its frames leave. */
  endTurn(): void {
    this.#corked = false;
    if (!this.#socketCorked) return;
    this.#socketCorked = false;
    this.socket.uncork();
  }

  close(code: number, reason: string, metricReason: string): void {
    if (this.closed) return;
    this.closeReason = metricReason;
    this.closed = true;
    this.ws.close(code, reason);
  }

  forget(sub: Subscription): void {
    if (this.#subs.get(sub.channelId) === sub) this.#subs.delete(sub.channelId);
    this.deps.hub.unsubscribe(sub);
  }

  /** The socket closed: drop every subscription. */
  cleanup(): void {
    this.closed = true;
    for (const sub of this.#subs.values()) {
      sub.close();
      this.deps.hub.unsubscribe(sub);
    }
    this.#subs.clear();
  }

  onMessage(data: Buffer, isBinary: boolean): void {
    this.lastFrameAt = Date.now();
    const parsed = parseFrame(data, isBinary);
    if (!parsed.ok) {
      this.deps.metrics.malformedFrames.inc({ code: parsed.code });
      this.send({
        type: 'error',
        code: parsed.code,
        message: parsed.message,
        ...(parsed.ref ? { ref: parsed.ref } : {}),
      });
      return;
    }
    this.#handle(parsed.frame).catch((err: unknown) => {
      this.deps.logger.error({ err }, 'frame handler failed');
      this.send({ type: 'error', code: 'INTERNAL', message: 'internal error' });
    });
  }

  async #handle(frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'ping':
        this.send({ type: 'pong', ...(frame.id === undefined ? {} : { id: frame.id }) });
        return;
      case 'subscribe':
        return this.#subscribe(
          frame.channelId,
          frame.lastSeq ?? 0,
          frame.since ? new Date(frame.since) : null,
          frame.epoch ?? null,
        );
      case 'unsubscribe': {
        this.#nextTurn(frame.channelId);
        this.#endSubscription(frame.channelId);
        this.send({ type: 'unsubscribed', channelId: frame.channelId, reason: 'client' });
        return;
      }
      case 'ack': {
        // One frame for every channel (the SDK's, every few seconds), or the older one per channel.
        const positions = 'acks' in frame ? frame.acks : [frame];
        let n = 0;
        for (const { channelId, seq } of positions) n += this.#subs.get(channelId)?.acked(seq) ?? 0;
        if (n > 0) this.deps.metrics.clientAcked.inc(n);
        return;
      }
      case 'send':
        return this.#send(frame.channelId, frame.clientMessageId, frame.body);
    }
  }

  /**
   * A later `subscribe` or an `unsubscribe` of the channel supersedes one still checking membership
   * or replaying: each frame takes a new turn, and only the latest turn may register a subscription.
   * Without it two frames in a row both passed the await and left two subscriptions, one of which
   * nothing removed (doubled deliveries, a leaked feed and Redis SUBSCRIBE).
   */
  #nextTurn(channelId: string): number {
    const turn = (this.#turns.get(channelId) ?? 0) + 1;
    this.#turns.set(channelId, turn);
    return turn;
  }

  #isLatest(channelId: string, turn: number): boolean {
    return this.#turns.get(channelId) === turn;
  }

  #endSubscription(channelId: string): void {
    const sub = this.#subs.get(channelId);
    if (!sub) return;
    sub.close();
    this.forget(sub);
  }

  async #subscribe(
    channelId: string,
    lastSeq: number,
    since: Date | null,
    epoch: string | null,
  ): Promise<void> {
    const turn = this.#nextTurn(channelId);
    this.#endSubscription(channelId);
    let sub: Subscription | undefined;
    try {
      await this.deps.access.requireMember(channelId, this.userId);
      if (this.closed || !this.#isLatest(channelId, turn)) return;
      sub = new Subscription(channelId, this.userId, lastSeq, this);
      this.#subs.set(channelId, sub);
      const position = await this.deps.hub.subscribe(sub, lastSeq, since, epoch);
      if (!sub.closed) {
        this.send({
          type: 'subscribed',
          channelId,
          seq: sub.cursor,
          recovered: position.recovered,
          ...(position.epoch === null ? {} : { epoch: position.epoch }),
        });
      }
    } catch (err) {
      // Only this turn's own subscription goes: a later one may already be in its place.
      if (sub) {
        sub.close();
        this.forget(sub);
      }
      if (this.#isLatest(channelId, turn)) this.#error(err, { channelId });
    }
  }

  async #send(channelId: string, clientMessageId: string, body: string): Promise<void> {
    const started = performance.now();
    const wait = await this.deps.sendLimiter.take(this.userId);
    if (wait > 0) {
      this.deps.metrics.rateLimited.inc({ limit: 'send' });
      this.deps.metrics.wsSends.inc({ code: '429' });
      this.send({
        type: 'error',
        code: 'RATE_LIMITED',
        message: 'too many messages; slow down',
        ref: clientMessageId,
        channelId,
        retryAfterSeconds: wait,
      });
      return;
    }
    try {
      await this.deps.access.requireMember(channelId, this.userId);
      const result = await this.deps.sends.send({ channelId, senderId: this.userId, clientMessageId, body });
      if (!result.ok) throw result.error;
      this.deps.metrics.wsSends.inc({ code: '200' });
      this.deps.metrics.ackLatency.observe((performance.now() - started) / 1000);
      this.send({
        type: 'ack',
        channelId,
        clientMessageId,
        seq: result.doc.seq,
        messageId: result.doc._id,
        createdAt: result.doc.createdAt.toISOString(),
        duplicate: result.duplicate,
      });
    } catch (err) {
      this.deps.metrics.wsSends.inc({ code: String(toAppError(err).status) });
      this.deps.sendLimiter.refundIfServerFault(this.userId, err);
      this.#error(err, { ref: clientMessageId, channelId });
    }
  }

  #error(err: unknown, context: { ref?: string; channelId?: string }): void {
    const appError = toAppError(err);
    const retryAfterSeconds = retryAfterSecondsOf(appError);
    if (!isAppError(err)) this.deps.logger.error({ err }, 'unexpected error handling a frame');
    this.send({
      type: 'error',
      code: appError.code,
      message: appError.message,
      ...context,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
}
