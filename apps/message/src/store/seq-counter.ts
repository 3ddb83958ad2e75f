// Seq allocation in Redis: one counter per channel (`chat:seq:{channelId}`), so senders on every
// instance take consecutive seqs without colliding, and one short-lived record per send
// (`chat:sent:{channelId}:{clientMessageId}`) naming the seq it was given, so a resend gets the same
// seq back instead of a new one (docs/architecture.md, "Seq allocation"). Both are written by one
// script per channel and batch: one round trip, atomic with respect to every other instance.
//
// The counter is seeded, when missing, from the store's highest seq; seeding starts a new epoch
// (`epoch`, with `base` the seq it started after), because nothing proves that the seqs go on from
// where clients are: Redis lost the counter, or the store was restored from a backup. The unique
// `_id` in the store stays the last guard: a counter found behind the store (Redis restored from an
// older snapshot, or seqs taken from the store while Redis was away) is raised past what is stored.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisGuard } from '../bus/redis-guard.js';
import { ACTIVE_CHANNELS, seqCounterKey, sentKey } from '../bus/keys.js';

/** What one send was given. */
export interface SeqGrant {
  seq: number;
  /** True when the seq was taken now; false when the clientMessageId already held it (a resend). */
  fresh: boolean;
}

export interface SendRef {
  clientMessageId: string;
  /** Its previous seq was sealed as a hole (or holds something else): take a new one. */
  renew?: boolean;
}

export interface ChannelEpoch {
  epoch: string;
  /** The seq the epoch started after (the store's highest when the counter was seeded). */
  base: number;
}

// KEYS[1] the counter; KEYS[2] the active channels; KEYS[3..] one send record per send.
// ARGV[1] seed ('' = do not seed), ARGV[2] epoch for a seed, ARGV[3] record TTL (s), ARGV[4] now (ms),
// ARGV[5] the channel id, ARGV[5+i] '1' to renew send i.
// Returns nil when the counter is missing and no seed was given; otherwise {seq, fresh, ...} per send.
const ALLOCATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[1] == '' then return false end
  redis.call('HSET', KEYS[1], 'top', ARGV[1], 'epoch', ARGV[2], 'base', ARGV[1])
end
local out = {}
local took = false
for i = 3, #KEYS do
  local held = false
  if ARGV[3 + i] ~= '1' then held = redis.call('GET', KEYS[i]) end
  if held then
    out[#out + 1] = tonumber(held)
    out[#out + 1] = 0
  else
    local seq = redis.call('HINCRBY', KEYS[1], 'top', 1)
    redis.call('SET', KEYS[i], seq, 'EX', ARGV[3])
    out[#out + 1] = seq
    out[#out + 1] = 1
    took = true
  end
end
if took then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5]) end
return out
`;

// KEYS[1] the counter; ARGV[1] a seq known to be stored. Never lowers the counter.
const RAISE = `
local top = tonumber(redis.call('HGET', KEYS[1], 'top'))
if top ~= nil and top < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'top', ARGV[1]) end
return 1
`;

// KEYS[1] the counter; ARGV[1] seed, ARGV[2] epoch for a seed. Returns {epoch, base}.
const EPOCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'top', ARGV[1], 'epoch', ARGV[2], 'base', ARGV[1])
end
return redis.call('HMGET', KEYS[1], 'epoch', 'base')
`;

type ScriptRedis = Redis & {
  chatAllocateSeqs(...args: (string | number)[]): Promise<number[] | null>;
  chatRaiseSeq(key: string, seq: number): Promise<number>;
  chatChannelEpoch(key: string, seed: number, epoch: string): Promise<[string, string]>;
};

export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

export class SeqCounter {
  readonly #redis: ScriptRedis;

  constructor(
    redis: Redis,
    private readonly guard: RedisGuard,
    /** The store's highest seq of a channel, to seed a missing counter from. */
    private readonly storeTop: (channelId: string) => Promise<number>,
    /** How long a send's seq is remembered for its resends. */
    private readonly sentTtlSeconds = 600,
  ) {
    // defineCommand sends EVALSHA, and the script itself only when Redis does not know it yet.
    redis.defineCommand('chatAllocateSeqs', { lua: ALLOCATE });
    redis.defineCommand('chatRaiseSeq', { numberOfKeys: 1, lua: RAISE });
    redis.defineCommand('chatChannelEpoch', { numberOfKeys: 1, lua: EPOCH });
    this.#redis = redis as ScriptRedis;
  }

  /** A seq per send of one channel, in order; a resend gets the seq its clientMessageId holds. */
  async allocate(channelId: string, sends: readonly SendRef[]): Promise<SeqGrant[]> {
    const granted =
      (await this.#allocate(channelId, sends, null)) ??
      (await this.#allocate(channelId, sends, await this.storeTop(channelId)));
    if (!granted) throw new Error(`seq counter of ${channelId} not seeded`);
    return granted;
  }

  async #allocate(
    channelId: string,
    sends: readonly SendRef[],
    seed: number | null,
  ): Promise<SeqGrant[] | null> {
    const keys = [
      seqCounterKey(channelId),
      ACTIVE_CHANNELS,
      ...sends.map((s) => sentKey(channelId, s.clientMessageId)),
    ];
    const args = [
      seed === null ? '' : String(seed),
      newEpoch(),
      String(this.sentTtlSeconds),
      String(Date.now()),
      channelId,
      ...sends.map((s) => (s.renew ? '1' : '0')),
    ];
    const out = await this.guard.run('allocate seqs', () =>
      this.#redis.chatAllocateSeqs(keys.length, ...keys, ...args),
    );
    if (!out) return null;
    return sends.map((_, i) => ({ seq: Number(out[2 * i]), fresh: out[2 * i + 1] === 1 }));
  }

  /** `seq` is stored: the counter goes on after it (it never goes back). */
  async raise(channelId: string, seq: number): Promise<void> {
    await this.guard.run('raise seq counter', () => this.#redis.chatRaiseSeq(seqCounterKey(channelId), seq));
  }

  /** The channel's counter: the highest seq allocated, or null when there is none. */
  async top(channelId: string): Promise<number | null> {
    const top = await this.guard.run('read seq counter', () =>
      this.#redis.hget(seqCounterKey(channelId), 'top'),
    );
    return top === null ? null : Number(top);
  }

  /** The channel's epoch, seeding its counter when missing (a new epoch then). */
  async epoch(channelId: string): Promise<ChannelEpoch> {
    const key = seqCounterKey(channelId);
    const read = () => this.guard.run('read channel epoch', () => this.#redis.hmget(key, 'epoch', 'base'));
    let [epoch, base] = await read();
    if (epoch === null || base === null) {
      const seed = await this.storeTop(channelId);
      [epoch, base] = await this.guard.run('seed channel epoch', () =>
        this.#redis.chatChannelEpoch(key, seed, newEpoch()),
      );
    }
    return { epoch: epoch!, base: Number(base) };
  }
}
