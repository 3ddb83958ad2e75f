// Revocations that cannot be lost (docs/architecture.md, "Revocations"). Auth publishes a membership
// removal or a channel deletion on Pub/Sub and appends it to the chat:revocations stream; this
// reader follows the stream from the last entry it read, so an instance whose subscriber missed the
// Pub/Sub message (disconnected, restarted Redis connection) still ends the subscriptions once it
// reads Redis again. Both paths deliver the same event: ChannelEventOrder drops the repeat.
import { Redis } from 'ioredis';
import type { Logger } from '@chatcluster/kit';
import type { AuthChannelEvent } from './bus.js';
import { REVOCATIONS_STREAM } from './keys.js';

export interface RevocationReaderOptions {
  url: string;
  logger: Logger;
  onEvent: (event: AuthChannelEvent) => void;
  /** How long one XREAD waits for new entries. */
  blockMs?: number;
  /** Wait after a failed read before the next. */
  retryMs?: number;
}

export class RevocationReader {
  /** Its own connection: a blocking XREAD holds it. */
  readonly #redis: Redis;
  /** The last entry read; null until the stream's tail is known. */
  #lastId: string | null = null;
  #stopped = false;
  #loop: Promise<void> | undefined;
  readonly #blockMs: number;
  readonly #retryMs: number;

  constructor(private readonly options: RevocationReaderOptions) {
    this.#blockMs = options.blockMs ?? 1_000;
    this.#retryMs = options.retryMs ?? 500;
    this.#redis = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // A read never legitimately takes much longer than its block: more is a half-open connection.
      commandTimeout: this.#blockMs + 2_000,
      retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
      connectionName: 'message-revocations',
    });
    this.#redis.on('error', () => undefined);
  }

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    await this.#redis.connect().catch(() => undefined);
    while (!this.#stopped) {
      try {
        this.#lastId ??= await this.#tail();
        const reply = await this.#redis.xread(
          'BLOCK',
          this.#blockMs,
          'STREAMS',
          REVOCATIONS_STREAM,
          this.#lastId,
        );
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            this.#lastId = id;
            this.#dispatch(fields);
          }
        }
      } catch (err) {
        if (this.#stopped) return;
        this.options.logger.debug({ err }, 'revocation stream read failed; retrying');
        await new Promise((r) => setTimeout(r, this.#retryMs));
      }
    }
  }

  /**
   * Where to start: the stream's newest entry when this instance starts. Earlier revocations do not
   * concern it (it had no subscriptions yet; new ones check membership).
   */
  async #tail(): Promise<string> {
    const newest = await this.#redis.xrevrange(REVOCATIONS_STREAM, '+', '-', 'COUNT', 1);
    return newest[0]?.[0] ?? '0-0';
  }

  #dispatch(fields: string[]): void {
    const at = fields.indexOf('event');
    try {
      this.options.onEvent(JSON.parse(fields[at + 1] ?? '') as AuthChannelEvent);
    } catch (err) {
      this.options.logger.warn({ err }, 'unreadable revocation entry ignored');
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#redis.disconnect();
    await this.#loop;
  }
}

/**
 * The newest event seen per membership (its seq is the membership's version) and per deleted channel:
 * the same event arrives by Pub/Sub and by the stream, and a removal read late from the stream must
 * not end a subscription that a later re-join allowed.
 */
export class ChannelEventOrder {
  readonly #latest = new Map<string, number>();

  constructor(private readonly maxKeys = 100_000) {}

  /** True when `event` is newer than every event of its membership (or channel) seen so far. */
  isNew(event: AuthChannelEvent): boolean {
    const key =
      event.type === 'channel.deleted' ? event.channelId : `${event.channelId}:${event.userId ?? ''}`;
    const seen = this.#latest.get(key);
    if (seen !== undefined && seen >= event.seq) return false;
    this.#latest.delete(key);
    this.#latest.set(key, event.seq);
    if (this.#latest.size > this.maxKeys) this.#latest.delete(this.#latest.keys().next().value!);
    return true;
  }
}
