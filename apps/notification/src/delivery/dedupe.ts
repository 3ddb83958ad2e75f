// One Redis record per delivery, so a redelivered entry never notifies twice (docs/notification-service.md,
// "Exactly-once effect"). A consumer that takes a delivery holds a lease on it (`claimed`, owner,
// deadline); right before each provider call the lease says `calling`, and goes back to `claimed`
// when the provider answered a failure. After the try the record becomes `sent` or `dead`, or is
// released to be tried again. A lease past its deadline means its owner died: if it was `claimed`
// nothing went out and the delivery is simply taken over; if it was `calling` the outcome is unknown.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

export type LeaseStatus =
  /** Ours: call the provider (a previous owner may have died before calling). */
  | 'acquired'
  /** Ours, but a previous owner died mid-call: the provider may have it already. */
  | 'orphaned'
  /** Already sent: skip. */
  | 'sent'
  /** Already dead-lettered: skip (a replay takes it over). */
  | 'dead'
  /** Another consumer is calling the provider for it right now: try later. */
  | 'busy';

export interface Lease {
  readonly status: LeaseStatus;
  /** Identifies our lease for release(). */
  readonly token: string;
}

export type DedupeRecord =
  | {
      readonly s: 'claimed' | 'calling';
      readonly owner: string;
      readonly token: string;
      readonly untilMs: string;
    }
  | { readonly s: 'sent'; readonly id: string; readonly at: string }
  | { readonly s: 'dead'; readonly reason: string; readonly at: string };

// KEYS[1] record; ARGV: owner, token, leaseMs, ttlMs, takeDead ('1' for a replay).
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function take(status)
  redis.call('SET', KEYS[1], cjson.encode({s = 'claimed', owner = ARGV[1], token = ARGV[2],
    untilMs = tostring(now + tonumber(ARGV[3]))}), 'PX', ARGV[4])
  return status
end
local raw = redis.call('GET', KEYS[1])
if not raw then return take('acquired') end
local ok, rec = pcall(cjson.decode, raw)
if not ok or type(rec) ~= 'table' then return take('acquired') end
if rec.s == 'sent' then return 'sent' end
if rec.s == 'dead' then
  if ARGV[5] == '1' then return take('acquired') end
  return 'dead'
end
if rec.s == 'claimed' or rec.s == 'calling' then
  if tonumber(rec.untilMs) >= now then return 'busy' end
  if rec.s == 'calling' then return take('orphaned') end
end
return take('acquired')
`;

// KEYS[1] record; ARGV: token, state. Switches our lease between claimed and calling.
const SET_STATE = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, rec = pcall(cjson.decode, raw)
if not ok or type(rec) ~= 'table' or rec.token ~= ARGV[1] then return 0 end
if rec.s ~= 'claimed' and rec.s ~= 'calling' then return 0 end
rec.s = ARGV[2]
redis.call('SET', KEYS[1], cjson.encode(rec), 'KEEPTTL')
return 1
`;

// KEYS[1] record; ARGV: token. Deletes the record only while it is still our lease.
const RELEASE = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, rec = pcall(cjson.decode, raw)
if ok and type(rec) == 'table' and (rec.s == 'claimed' or rec.s == 'calling') and rec.token == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

// KEYS[1] record; ARGV: record JSON, ttlMs. Never overwrites `sent`.
const MARK_DEAD = `
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, rec = pcall(cjson.decode, raw)
  if ok and type(rec) == 'table' and rec.s == 'sent' then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

export interface DedupeOptions {
  /** Names this instance in leases (for operators reading them). */
  readonly owner: string;
  /** How long a lease stays ours: longer than one whole delivery try. */
  readonly leaseMs: number;
  /** How long records are kept: longer than any entry can stay pending. */
  readonly ttlMs: number;
}

export class DedupeStore {
  constructor(
    private readonly redis: Redis,
    private readonly options: DedupeOptions,
  ) {}

  async acquire(key: string, options: { takeDead: boolean }): Promise<Lease> {
    const token = randomUUID();
    const status = (await this.redis.eval(
      ACQUIRE,
      1,
      key,
      this.options.owner,
      token,
      String(this.options.leaseMs),
      String(this.options.ttlMs),
      options.takeDead ? '1' : '0',
    )) as LeaseStatus;
    return { status, token };
  }

  /** A provider call is about to start: if we die now, its outcome is unknown. */
  async markCalling(key: string, lease: Lease): Promise<void> {
    await this.redis.eval(SET_STATE, 1, key, lease.token, 'calling');
  }

  /** The provider answered (a failure): nothing went out, whatever happens to us next. */
  async markClaimed(key: string, lease: Lease): Promise<void> {
    await this.redis.eval(SET_STATE, 1, key, lease.token, 'claimed');
  }

  async release(key: string, lease: Lease): Promise<void> {
    await this.redis.eval(RELEASE, 1, key, lease.token);
  }

  async markSent(key: string, providerId: string): Promise<void> {
    const record: DedupeRecord = { s: 'sent', id: providerId, at: new Date().toISOString() };
    await this.redis.set(key, JSON.stringify(record), 'PX', this.options.ttlMs);
  }

  async markDead(key: string, reason: string): Promise<void> {
    const record: DedupeRecord = { s: 'dead', reason, at: new Date().toISOString() };
    await this.redis.eval(MARK_DEAD, 1, key, JSON.stringify(record), String(this.options.ttlMs));
  }
}

/** Reads a record as stored (for tests and operators); null when absent or unreadable. */
export function parseDedupeRecord(raw: string | null): DedupeRecord | null {
  if (raw === null) return null;
  try {
    return JSON.parse(raw) as DedupeRecord;
  } catch {
    return null;
  }
}
