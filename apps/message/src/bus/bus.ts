// Redis Pub/Sub between instances, the chat:notify stream, the bounded recent-history cache and
// the channel events from auth. One connection for commands, one for subscriptions.
import { Redis } from 'ioredis';
import type { Logger } from '@chatcluster/kit';
import type { MessageEvent, MessageView, ReactionEvent } from '@chatcluster/message-sdk';
import { adoptEncoding, encodedEvent } from '../delivery/encoding.js';
import { isReactionEvent } from '../delivery/reaction-frame.js';
import { CHANNEL_EVENTS, eventsChannel, eventsPrefix, historyKey, NOTIFY_STREAM } from './keys.js';
import type { RedisGuard } from './redis-guard.js';

export interface AuthChannelEvent {
  type: string;
  channelId: string;
  userId?: string;
  seq: number;
  deletedAt?: string;
}

/** On `chat:events:{channelId}` beside the events: the seq will never hold a message. */
export const HOLE_NOTICE = 'seq.hole';
interface HoleNotice {
  type: typeof HOLE_NOTICE;
  channelId: string;
  seq: number;
}
function isHoleNotice(value: unknown): value is HoleNotice {
  return (value as { type?: unknown } | null)?.type === HOLE_NOTICE;
}

/** The relay compares this many of a channel's newest history entries with its counter. */
const minHistory = 100;

// KEYS[1] chat:notify, then one history stream per event. ARGV[1] the history size, ARGV[2] the
// origin prefix of PUBLISH payloads, then per event: seq, event JSON, Pub/Sub channel, '1' for a new
// message (to notify), its id, channel id, sender, preview and creation time.
const PUBLISH_EVENTS = `
local a = 3
for i = 2, #KEYS do
  local seq, event = ARGV[a], ARGV[a + 1]
  redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], '*', 'seq', seq, 'event', event)
  redis.call('PUBLISH', ARGV[a + 2], ARGV[2] .. event)
  if ARGV[a + 3] == '1' then
    redis.call('XADD', KEYS[1], '*', 'type', 'message.created', 'messageId', ARGV[a + 4],
      'channelId', ARGV[a + 5], 'seq', seq, 'senderId', ARGV[a + 6], 'preview', ARGV[a + 7],
      'createdAt', ARGV[a + 8])
  end
  a = a + 9
end
return #KEYS - 1
`;

type ScriptRedis = Redis & {
  chatPublishEvents(...args: (string | number | Buffer)[]): Promise<number>;
};

/**
 * Event payloads on `chat:events:*` are `<instanceId> <event JSON>`: an instance skips its own
 * (delivered locally before publishing) without parsing them. A payload that starts with `{` has no
 * origin (an older publisher) and is always taken.
 */
const originSeparator = 0x20;
const jsonStart = 0x7b;

export interface BusOptions {
  url: string;
  /** Names this instance's publications, so it can drop their echo unread. */
  instanceId: string;
  guard: RedisGuard;
  logger: Logger;
  recentSize: number;
}

export class Bus {
  readonly cmd: Redis;
  readonly sub: Redis;
  #onEvent: (event: MessageEvent) => void = () => undefined;
  #onHole: (channelId: string, seq: number) => void = () => undefined;
  #onReaction: (event: ReactionEvent) => void = () => undefined;
  #onChannelEvent: (event: AuthChannelEvent) => void = () => undefined;
  #onResubscribed: () => void = () => undefined;
  #everReady = false;
  readonly #origin: Buffer;
  readonly #scripts: ScriptRedis;
  /** When the subscriber connection was last lost (null while connected). */
  downSince: Date | null = null;

  constructor(private readonly options: BusOptions) {
    this.#origin = Buffer.from(`${options.instanceId} `);
    const common = {
      lazyConnect: true,
      // Fail commands at once while disconnected instead of queueing them without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    };
    // No auto-pipelining: the hot paths batch themselves (one script per turn or send batch), and
    // ioredis's auto-pipeline can lose a command's place when adding it throws, which then crashes the
    // process (`results[i] is not iterable`, ioredis#1931; seen here under an overloaded store).
    this.cmd = new Redis(options.url, { ...common, connectionName: 'message-cmd' });
    // The subscriber queues its (re)subscriptions until connected; ioredis replays them on reconnect.
    this.sub = new Redis(options.url, {
      ...common,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      connectionName: 'message-sub',
    });
    for (const client of [this.cmd, this.sub]) client.on('error', () => undefined);
    // defineCommand sends EVALSHA, and the script itself only when Redis does not know it yet.
    this.cmd.defineCommand('chatPublishEvents', { lua: PUBLISH_EVENTS });
    this.#scripts = this.cmd as ScriptRedis;
    this.sub.on('messageBuffer', (channel: Buffer, payload: Buffer) =>
      this.#dispatch(channel.toString(), payload),
    );
    this.sub.on('close', () => {
      this.downSince ??= new Date();
    });
    this.sub.on('ready', () => {
      const reconnected = this.#everReady;
      this.#everReady = true;
      if (reconnected) {
        options.logger.info({ downSince: this.downSince }, 'redis subscriber reconnected; catching up');
        this.#onResubscribed();
      }
      this.downSince = null;
    });
  }

  async start(): Promise<void> {
    // Start even when Redis is down: messages are still stored, delivery catches up later.
    await Promise.all([this.cmd.connect(), this.sub.connect()]).catch((err: unknown) =>
      this.options.logger.warn({ err }, 'redis not reachable at start; retrying in the background'),
    );
    await this.sub.subscribe(CHANNEL_EVENTS).catch(() => undefined);
  }

  onEvent(handler: (event: MessageEvent) => void): void {
    this.#onEvent = handler;
  }
  /** Another instance sealed a hole: readers stop waiting for that seq. */
  onHole(handler: (channelId: string, seq: number) => void): void {
    this.#onHole = handler;
  }
  /** A reaction delta, from any instance (this one's too: it is delivered from Redis only). */
  onReaction(handler: (event: ReactionEvent) => void): void {
    this.#onReaction = handler;
  }
  onChannelEvent(handler: (event: AuthChannelEvent) => void): void {
    this.#onChannelEvent = handler;
  }
  /** Called after the subscriber reconnected: events published meanwhile were lost. */
  onResubscribed(handler: () => void): void {
    this.#onResubscribed = handler;
  }

  #dispatch(channel: string, payload: Buffer): void {
    try {
      let json = payload;
      if (channel.startsWith(eventsPrefix) && payload[0] !== jsonStart) {
        // Our own echo: every local subscriber already has it.
        if (payload.subarray(0, this.#origin.length).equals(this.#origin)) return;
        json = payload.subarray(payload.indexOf(originSeparator) + 1);
      }
      const parsed = JSON.parse(json.toString('utf8')) as unknown;
      if (channel === CHANNEL_EVENTS) this.#onChannelEvent(parsed as AuthChannelEvent);
      else if (isHoleNotice(parsed)) this.#onHole(parsed.channelId, parsed.seq);
      else if (isReactionEvent(parsed)) this.#onReaction(parsed);
      else if (channel.startsWith(eventsPrefix)) {
        // Delivered to local subscribers in the bytes it arrived in.
        adoptEncoding(parsed as MessageEvent, json);
        this.#onEvent(parsed as MessageEvent);
      }
    } catch (err) {
      this.options.logger.warn({ err, channel }, 'unreadable pub/sub payload ignored');
    }
  }

  async subscribe(channelId: string): Promise<void> {
    await this.sub.subscribe(eventsChannel(channelId));
  }

  async unsubscribe(channelId: string): Promise<void> {
    await this.sub.unsubscribe(eventsChannel(channelId));
  }

  /**
   * Publishes the events in one script call (one round trip and one command for the whole batch, as
   * Centrifugo's Redis engine publishes with history): per event at most 3 commands, XADD to the
   * channel's history stream (the recent-history cache, trimmed with MAXLEN ~, and the record the
   * relay checks for what was published), PUBLISH, and for a new message XADD to chat:notify. The
   * event is encoded once, for the stream and the PUBLISH alike. A failure repeats all of it
   * (consumers deduplicate by channel, seq and version).
   */
  async publish(events: readonly MessageEvent[]): Promise<void> {
    if (events.length === 0) return;
    const keys: string[] = [NOTIFY_STREAM];
    const args: (string | Buffer)[] = [String(this.#historySize), this.#origin];
    for (const event of events) {
      const { channelId, seq } = event;
      const m = event.message;
      const notify = event.type === 'message.created' && event.version === 1;
      keys.push(historyKey(channelId));
      // The same bytes the local subscribers' frames were built from.
      args.push(String(seq), encodedEvent(event), eventsChannel(channelId));
      if (notify) args.push('1', m.id, channelId, m.senderId, m.body.slice(0, 140), m.createdAt);
      else args.push('', '', '', '', '', '');
    }
    await this.options.guard.run('redis publish', () =>
      this.#scripts.chatPublishEvents(keys.length, ...keys, ...args),
    );
  }

  /** Entries kept in a channel's history stream (at least what the relay needs to look back). */
  get #historySize(): number {
    return Math.max(this.options.recentSize, minHistory);
  }

  /** The seqs among the newest `count` entries of the channel's history stream (what was published). */
  async publishedSeqs(channelId: string, count: number): Promise<Set<number>> {
    const entries = await this.options.guard.run('redis history seqs', () =>
      this.cmd.xrevrange(historyKey(channelId), '+', '-', 'COUNT', count),
    );
    const seqs = new Set<number>();
    for (const [, fields] of entries) seqs.add(Number(fields[1]));
    return seqs;
  }

  /**
   * Tells every instance, this one included, of a reaction delta: published without an origin, so
   * the echo is not dropped and local subscribers get it from Redis like the others (best effort:
   * the reaction is stored either way, and history reads show it).
   */
  async publishReaction(event: ReactionEvent): Promise<void> {
    await this.options.guard.run('redis publish reaction', () =>
      this.cmd.publish(eventsChannel(event.channelId), JSON.stringify(event)),
    );
  }

  /** Tells every instance that `seq` is a sealed hole. */
  async publishHole(channelId: string, seq: number): Promise<void> {
    const notice: HoleNotice = { type: HOLE_NOTICE, channelId, seq };
    await this.options.guard.run('redis publish hole', () =>
      this.cmd.publish(eventsChannel(channelId), `${this.#origin.toString()}${JSON.stringify(notice)}`),
    );
  }

  /** Recent messages from the history stream (latest version of each), ascending, for history while MongoDB is down. */
  async recent(
    channelId: string,
    query: { before?: number | undefined; after?: number | undefined; limit: number },
  ): Promise<MessageView[]> {
    const entries = await this.options.guard.run('redis recent', () =>
      this.cmd.xrevrange(historyKey(channelId), '+', '-', 'COUNT', this.#historySize),
    );
    const latest = new Map<number, MessageEvent>();
    for (const [, fields] of entries) {
      const seq = Number(fields[1]);
      if (query.after !== undefined && seq <= query.after) continue;
      if (query.before !== undefined && seq >= query.before) continue;
      const event = JSON.parse(fields[3]!) as MessageEvent;
      const known = latest.get(seq);
      if (!known || known.version < event.version) latest.set(seq, event);
    }
    const items = [...latest.values()].map((e) => e.message).sort((a, b) => a.seq - b.seq);
    // Without `after` the page is the newest ones before the cursor; with it, the oldest after it.
    return query.after !== undefined && query.before === undefined
      ? items.slice(0, query.limit)
      : items.slice(-query.limit);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.sub.quit(), this.cmd.quit()]);
    this.sub.disconnect();
    this.cmd.disconnect();
  }
}
