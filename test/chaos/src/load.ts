// Steady chat load through the SDK, and what became of every message. Each member of a channel is one
// SDK client (through the message Service, so the members spread over the replicas) that sends at a
// fixed rate, numbering its messages 1, 2, 3, … (its sender sequence), and receives the whole channel.
// Per message: when it was handed to the SDK, acknowledged, and delivered to each member; so the
// driver can say how many were sent, acknowledged, delivered to everyone, lost (acknowledged but
// missing at a member), duplicated (delivered twice, or stored under another seq than acknowledged),
// and how long the platform took to recover from a fault. (Order needs no count of its own: the SDK
// drops an event whose seq is not above the last one it delivered, so a reordered message shows as lost.)
import { call, eventually } from '@chatcluster/harness';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { ChatUser, type User } from '@chatcluster/e2e';
import type { MessageEvent, SendAckFrame } from '@chatcluster/message-sdk';
import { percentile } from './stats.js';

export interface LoadOptions {
  /** The message Service URL (the members connect through it, as clients would). */
  messageUrl: string;
  channelId: string;
  /** Each sends and receives; the token is read on every (re)connect. */
  members: User[];
  /** Messages per second per member (default 1: the per-user send limit is 100 a minute). */
  ratePerMember?: number;
  /** Sends a member may have waiting for their acknowledgement; it skips its turn beyond that. */
  maxInFlight?: number;
  /** HTTP traffic besides the WebSockets, as REST clients make it: the first `senders` members send
   * through `POST /api/v1/messages` instead (repeating a send with its clientMessageId after a 503 or
   * 429, after Retry-After, until it is stored), and `readsPerSecond` history reads are spread over the
   * members (their statuses are counted). */
  http?: { senders?: number; readsPerSecond?: number };
}

interface Tracked {
  sender: number;
  n: number;
  clientMessageId: string;
  sentAt: number;
  ackedAt?: number;
  ack?: SendAckFrame;
  failed?: string;
  /** Per member: arrival times and seqs of each copy received. */
  arrivals: Map<number, { at: number; seq: number }[]>;
}

export interface LatencyFigures {
  messages: number;
  ackP50Ms: number | null;
  ackP99Ms: number | null;
  /** Handed to the SDK → received by the last member. */
  deliveryP50Ms: number | null;
  deliveryP99Ms: number | null;
  deliveryMaxMs: number | null;
}

export interface LoadFigures {
  members: number;
  ratePerMember: number;
  durationSeconds: number;
  sent: number;
  acknowledged: number;
  /** Sent but never acknowledged by the end (the SDK was still resending them). */
  unacknowledged: number;
  /** Sends the SDK gave up on with a final error. */
  failed: number;
  /** Acknowledged messages that reached every member. */
  delivered: number;
  /** Acknowledged messages missing at one member or more. */
  lost: number;
  /** Extra copies received (a message twice at a member, or stored under a seq other than its ack's). */
  duplicated: number;
  /** From the fault's end (the kill, for a kill) until everything sent before it and the first message
   * sent after it were acknowledged and at every member; null without a fault mark. */
  timeToRecoverMs: number | null;
  /** Acknowledgements that arrived between the fault's start and end. */
  acknowledgedDuringFault: number | null;
  /** The longest time without any acknowledgement. */
  longestAckGapMs: number;
  /** The longest time without any delivery at some member. */
  longestDeliveryGapMs: number;
  reconnects: number;
  /** Statuses of the HTTP sends (every try) and history reads, when the load made HTTP traffic. */
  http?: { sends: Record<string, number>; reads: Record<string, number> };
  /** `reconnect` notices the members got from instances going away (graceful shutdowns). */
  reconnectNotices: number;
  /** The instances the members were connected to, with the number of connections each. */
  instances: Record<string, number>;
  latency: {
    before: LatencyFigures;
    during: LatencyFigures;
    after: LatencyFigures;
    /** From the `recovered` mark (the scenario's own sign of recovery, e.g. breakers closed) to the end. */
    recovered?: LatencyFigures;
  };
}

const BODY = /^load (\w+) (\d+) (\d+)$/;

export class ChatLoad {
  readonly runId = randomBytes(4).toString('hex');
  readonly users: ChatUser[];
  private readonly messages = new Map<string, Tracked>();
  private readonly deliveryTimes: number[][];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inFlight: number[];
  private readonly next: number[];
  private readonly marks = new Map<'faultStart' | 'faultEnd' | 'recovered', number>();
  private startedAt = 0;
  private stoppedAt = 0;
  private readonly rate: number;
  private readonly httpSends: Record<string, number> = {};
  private readonly httpReads: Record<string, number> = {};
  private reading = false;
  private reads: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(private readonly options: LoadOptions) {
    this.rate = options.ratePerMember ?? 1;
    this.users = options.members.map(
      (member) =>
        new ChatUser(options.messageUrl, () => member.token, { minBackoffMs: 200, maxBackoffMs: 3_000 }),
    );
    this.deliveryTimes = options.members.map(() => []);
    this.inFlight = options.members.map(() => 0);
    this.next = options.members.map(() => 1);
    this.users.forEach((user, index) => user.client.on('message', (e) => this.onMessage(index, e)));
  }

  /** Connects and subscribes every member, then starts sending. */
  static async start(options: LoadOptions): Promise<ChatLoad> {
    const load = new ChatLoad(options);
    await Promise.all(load.users.map((u) => u.open()));
    await Promise.all(load.users.map((u) => u.subscribe(options.channelId)));
    load.startedAt = Date.now();
    const reads = options.http?.readsPerSecond ?? 0;
    if (reads > 0) {
      load.reading = true;
      load.reads = load.readLoop(reads);
    }
    const period = 1000 / load.rate;
    load.users.forEach((_, index) => {
      // Spread the members' turns over the period.
      const first = setTimeout(
        () => {
          load.tick(index);
          load.timers.push(setInterval(() => load.tick(index), period));
        },
        (period * index) / load.users.length,
      );
      load.timers.push(first);
    });
    return load;
  }

  /** Names an instant (`faultStart`, `faultEnd`, `recovered`), for the phases and the time to recover. */
  mark(name: 'faultStart' | 'faultEnd' | 'recovered', at = Date.now()): void {
    this.marks.set(name, at);
  }

  /** Acknowledgements so far. */
  get acknowledged(): number {
    let n = 0;
    for (const m of this.messages.values()) if (m.ack) n++;
    return n;
  }

  /** Messages sent so far that every member received. */
  get deliveredToAll(): number {
    let n = 0;
    for (const m of this.messages.values()) if (m.arrivals.size === this.users.length) n++;
    return n;
  }

  /** The server ids of the acknowledged messages. */
  acknowledgedMessageIds(): string[] {
    return [...this.messages.values()].filter((m) => m.ack).map((m) => m.ack!.messageId);
  }

  /** Resolves once `count` more messages than now were acknowledged and delivered to every member. */
  async progress(count: number, timeoutMs = 30_000): Promise<void> {
    const target = this.deliveredToAll + count;
    await eventually(
      `${count} more messages delivered to every member`,
      () => this.deliveredToAll >= target,
      timeoutMs,
    );
  }

  /** Lets the load run for `ms`. */
  async run(ms: number): Promise<void> {
    await delay(ms);
  }

  /**
   * Stops sending, waits until every send is acknowledged and every acknowledged message reached
   * every member (or `drainTimeoutMs` passed), closes the clients, and returns the figures.
   */
  async stop(drainTimeoutMs = 60_000): Promise<LoadFigures> {
    for (const t of this.timers) clearTimeout(t);
    this.reading = false;
    this.stoppedAt = Date.now();
    const deadline = Date.now() + drainTimeoutMs;
    const settled = () =>
      [...this.messages.values()].every(
        (m) => m.failed !== undefined || (m.ack !== undefined && m.arrivals.size === this.users.length),
      );
    while (!settled() && Date.now() < deadline) await delay(100);
    // Late duplicates would arrive now.
    await delay(1_000);
    this.closed = true;
    for (const user of this.users) user.close();
    await this.reads;
    return this.figures();
  }

  private tick(index: number): void {
    if (this.inFlight[index]! >= (this.options.maxInFlight ?? 10)) return;
    const n = this.next[index]!++;
    const clientMessageId = `${this.runId}-${index}-${n}`;
    const tracked: Tracked = { sender: index, n, clientMessageId, sentAt: Date.now(), arrivals: new Map() };
    this.messages.set(`${index}:${n}`, tracked);
    this.inFlight[index]!++;
    const body = `load ${this.runId} ${index} ${n}`;
    const sent =
      index < (this.options.http?.senders ?? 0)
        ? this.restSend(this.options.members[index]!, body, clientMessageId)
        : this.users[index]!.send(this.options.channelId, body, clientMessageId);
    sent.then(
      (ack) => {
        tracked.ack = ack;
        tracked.ackedAt = Date.now();
        this.inFlight[index]!--;
      },
      (err: Error & { code?: string }) => {
        tracked.failed = err.code ?? err.message;
        this.inFlight[index]!--;
      },
    );
  }

  /** A REST client's send: repeated with the same clientMessageId until stored (or refused for good). */
  private async restSend(member: User, body: string, clientMessageId: string): Promise<SendAckFrame> {
    for (;;) {
      let wait = 1_000;
      try {
        const res = await call<{
          message?: { id: string; seq: number; createdAt: string };
          duplicate?: boolean;
          error?: { code: string };
        }>(this.options.messageUrl, 'POST', '/api/v1/messages', {
          token: member.token,
          body: { channelId: this.options.channelId, clientMessageId, body },
          timeoutMs: 15_000,
        });
        count(this.httpSends, String(res.status));
        if ((res.status === 201 || res.status === 200) && res.body.message) {
          const { id, seq, createdAt } = res.body.message;
          return {
            type: 'ack',
            channelId: this.options.channelId,
            clientMessageId,
            seq,
            messageId: id,
            createdAt,
            duplicate: res.body.duplicate ?? false,
          };
        }
        if (res.status !== 503 && res.status !== 429) {
          throw Object.assign(new Error(`HTTP ${res.status}`), {
            code: res.body.error?.code ?? String(res.status),
          });
        }
        wait = Math.max(1, Number(res.headers.get('retry-after') ?? 1)) * 1000;
      } catch (err) {
        if ((err as { code?: string }).code !== undefined) throw err;
        count(this.httpSends, (err as Error).name);
      }
      if (this.closed) throw Object.assign(new Error('load closed'), { code: 'CLIENT_CLOSED' });
      await delay(wait);
    }
  }

  /** History reads spread over the members, `readsPerSecond` in all. */
  private async readLoop(perSecond: number): Promise<void> {
    let i = 0;
    while (this.reading) {
      const member = this.options.members[i++ % this.options.members.length]!;
      const started = Date.now();
      try {
        const res = await call(
          this.options.messageUrl,
          'GET',
          `/api/v1/messages?channelId=${this.options.channelId}&limit=20`,
          {
            token: member.token,
            timeoutMs: 15_000,
          },
        );
        count(this.httpReads, String(res.status));
      } catch (err) {
        count(this.httpReads, (err as Error).name);
      }
      await delay(Math.max(0, 1000 / perSecond - (Date.now() - started)));
    }
  }

  private onMessage(member: number, event: MessageEvent): void {
    if (event.channelId !== this.options.channelId) return;
    const now = Date.now();
    this.deliveryTimes[member]!.push(now);
    const match = BODY.exec(event.message.body);
    if (!match || match[1] !== this.runId) return;
    const tracked = this.messages.get(`${match[2]}:${match[3]}`);
    if (!tracked) return;
    let copies = tracked.arrivals.get(member);
    if (!copies) tracked.arrivals.set(member, (copies = []));
    copies.push({ at: now, seq: event.seq });
  }

  private figures(): LoadFigures {
    const all = [...this.messages.values()];
    const acked = all.filter((m) => m.ack);
    let lost = 0;
    let duplicated = 0;
    let delivered = 0;
    for (const m of all) {
      for (const copies of m.arrivals.values()) {
        duplicated += copies.length - 1;
        // A copy under another seq than the acknowledged one is a second stored message.
        if (m.ack && copies.some((c) => c.seq !== m.ack!.seq)) duplicated++;
      }
      if (!m.ack) continue;
      if (m.arrivals.size === this.users.length) delivered++;
      else lost++;
    }
    const doneAt = (m: Tracked): number | undefined =>
      m.ack && m.arrivals.size === this.users.length
        ? Math.max(m.ackedAt!, ...[...m.arrivals.values()].map((c) => c[0]!.at))
        : undefined;
    const faultStart = this.marks.get('faultStart');
    const faultEnd = this.marks.get('faultEnd');
    let timeToRecoverMs: number | null = null;
    if (faultEnd !== undefined) {
      const backlog = all.filter((m) => m.sentAt <= faultEnd);
      const fresh = all.filter((m) => m.sentAt > faultEnd).sort((a, b) => a.sentAt - b.sentAt)[0];
      const times = [...backlog, ...(fresh ? [fresh] : [])].map(doneAt);
      const done = times.filter((t): t is number => t !== undefined);
      if (fresh && done.length === times.length) timeToRecoverMs = Math.max(faultEnd, ...done) - faultEnd;
    }
    const ackTimes = acked.map((m) => m.ackedAt!).sort((a, b) => a - b);
    const longestGap = (times: number[]): number => {
      const sorted = [this.startedAt, ...times.filter((t) => t <= this.stoppedAt), this.stoppedAt].sort(
        (a, b) => a - b,
      );
      let gap = 0;
      for (let i = 1; i < sorted.length; i++) gap = Math.max(gap, sorted[i]! - sorted[i - 1]!);
      return gap;
    };
    const phase = (from: number, to: number): LatencyFigures => {
      const inPhase = acked.filter((m) => m.sentAt >= from && m.sentAt < to);
      const ack = inPhase.map((m) => m.ackedAt! - m.sentAt);
      const deliveryMs = inPhase.flatMap((m) => {
        const done = doneAt(m);
        return done === undefined ? [] : [done - m.sentAt];
      });
      return {
        messages: inPhase.length,
        ackP50Ms: percentile(ack, 50),
        ackP99Ms: percentile(ack, 99),
        deliveryP50Ms: percentile(deliveryMs, 50),
        deliveryP99Ms: percentile(deliveryMs, 99),
        deliveryMaxMs: deliveryMs.length > 0 ? Math.max(...deliveryMs) : null,
      };
    };
    const instances: Record<string, number> = {};
    for (const user of this.users) for (const id of user.instances) instances[id] = (instances[id] ?? 0) + 1;
    return {
      members: this.users.length,
      ratePerMember: this.rate,
      durationSeconds: Math.round((this.stoppedAt - this.startedAt) / 100) / 10,
      sent: all.length,
      acknowledged: acked.length,
      unacknowledged: all.filter((m) => !m.ack && m.failed === undefined).length,
      failed: all.filter((m) => m.failed !== undefined).length,
      delivered,
      lost,
      duplicated,
      timeToRecoverMs,
      acknowledgedDuringFault:
        faultStart === undefined || faultEnd === undefined
          ? null
          : ackTimes.filter((t) => t >= faultStart && t < faultEnd).length,
      longestAckGapMs: longestGap(ackTimes),
      longestDeliveryGapMs: Math.max(...this.deliveryTimes.map(longestGap)),
      ...(this.options.http ? { http: { sends: this.httpSends, reads: this.httpReads } } : {}),
      reconnects: this.users.reduce((sum, u) => sum + u.client.reconnects, 0),
      reconnectNotices: this.users.reduce((sum, u) => sum + u.notices.length, 0),
      instances,
      latency: {
        before: phase(this.startedAt, faultStart ?? this.stoppedAt),
        during: phase(faultStart ?? this.stoppedAt, faultEnd ?? this.stoppedAt),
        after: phase(faultEnd ?? this.stoppedAt, this.stoppedAt),
        ...(this.marks.has('recovered')
          ? { recovered: phase(this.marks.get('recovered')!, this.stoppedAt) }
          : {}),
      },
    };
  }
}

function count(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
