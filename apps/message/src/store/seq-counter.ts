// Seq allocation in Redis: one counter per channel (`chat:seq:{channelId}`), so senders on every
// instance take consecutive seqs without colliding, and one short-lived record per send
// (`chat:sent:{channelId}:{clientMessageId}`) naming the seq it was given, so a resend gets the same
// seq back instead of a new one (docs/architecture.md, "Seq allocation"). Both are written by one
// script per batch of sends, whatever channels it holds: one round trip, atomic with respect to every
// other instance.
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

// Every channel of a batch in one call. KEYS[1] the active channels, then per channel its counter
// and one send record per send. ARGV[1] record TTL (s), ARGV[2] now (ms), then per channel: the
// channel id, its number of sends n, seed ('' = do not seed), epoch for a seed, and n renew flags
// ('1' to renew send i). Returns per channel -1 when its counter is missing and no seed was given
// (nothing taken for it), otherwise its seq and fresh flag per send, in order.
const ALLOCATE = `
local out = {}
local k = 2
local a = 3
while ARGV[a] do
  local channel, n, seed, epoch = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2], ARGV[a + 3]
  local counter = KEYS[k]
  local missing = redis.call('EXISTS', counter) == 0
  if missing and seed == '' then
    out[#out + 1] = -1
  else
    if missing then redis.call('HSET', counter, 'top', seed, 'epoch', epoch, 'base', seed) end
    local took = false
    for i = 1, n do
      local record = KEYS[k + i]
      local held = false
      if ARGV[a + 3 + i] ~= '1' then held = redis.call('GET', record) end
      if held then
        out[#out + 1] = tonumber(held)
        out[#out + 1] = 0
      else
        local seq = redis.call('HINCRBY', counter, 'top', 1)
        redis.call('SET', record, seq, 'EX', ARGV[1])
        out[#out + 1] = seq
        out[#out + 1] = 1
        took = true
      end
    end
    if took then redis.call('ZADD', KEYS[1], ARGV[2], channel) end
  end
  k = k + n + 1
  a = a + n + 4
end
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
  chatAllocateSeqs(...args: (string | number)[]): Promise<number[]>;
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

  /**
   * A seq per send, in order, for every channel of a batch in one round trip (a second one seeds the
   * channels whose counter is missing, from the store); a resend gets the seq its clientMessageId
   * holds. Throws when Redis cannot answer.
   */
  async allocateMany(requests: ReadonlyMap<string, readonly SendRef[]>): Promise<Map<string, SeqGrant[]>> {
    const granted = await this.#allocate(requests, null);
    const unseeded = [...requests].filter(([channelId]) => !granted.has(channelId));
    if (unseeded.length > 0) {
      const seeds = new Map(
        await Promise.all(
          unseeded.map(async ([channelId]) => [channelId, await this.storeTop(channelId)] as const),
        ),
      );
      const seeded = await this.#allocate(new Map(unseeded), seeds);
      for (const [channelId] of unseeded) {
        const grants = seeded.get(channelId);
        if (!grants) throw new Error(`seq counter of ${channelId} not seeded`);
        granted.set(channelId, grants);
      }
    }
    return granted;
  }

  async #allocate(
    requests: ReadonlyMap<string, readonly SendRef[]>,
    seeds: ReadonlyMap<string, number> | null,
  ): Promise<Map<string, SeqGrant[]>> {
    const keys: string[] = [ACTIVE_CHANNELS];
    const args: string[] = [String(this.sentTtlSeconds), String(Date.now())];
    for (const [channelId, sends] of requests) {
      const seed = seeds?.get(channelId);
      keys.push(seqCounterKey(channelId));
      for (const s of sends) keys.push(sentKey(channelId, s.clientMessageId));
      // An epoch is made only for a seed: most batches seed nothing.
      args.push(channelId, String(sends.length), seed === undefined ? '' : String(seed));
      args.push(seed === undefined ? '' : newEpoch());
      for (const s of sends) args.push(s.renew ? '1' : '0');
    }
    const out = await this.guard.run('allocate seqs', () =>
      this.#redis.chatAllocateSeqs(keys.length, ...keys, ...args),
    );
    const granted = new Map<string, SeqGrant[]>();
    let at = 0;
    for (const [channelId, sends] of requests) {
      if (out[at] === -1) {
        at++;
        continue;
      }
      granted.set(
        channelId,
        sends.map((_, i) => ({ seq: Number(out[at + 2 * i]), fresh: out[at + 2 * i + 1] === 1 })),
      );
      at += 2 * sends.length;
    }
    return granted;
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
