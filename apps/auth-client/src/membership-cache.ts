/**
 * The membership cache shared by auth (which writes the new state after every change) and the
 * lookup client (which fills it on a miss). Key `chat:membership:{channelId}:{userId}`, TTL 300 s.
 *
 * Every entry carries the membership's version (a PostgreSQL sequence bumped on every change), and
 * the write is a compare-and-set: an entry is only replaced by one with an equal or higher version.
 * A lookup that read the database just before a change and fills the cache just after it therefore
 * cannot put back the old answer.
 */

export const MEMBERSHIP_TTL_SECONDS = 300;

export function membershipKey(channelId: string, userId: string): string {
  return `chat:membership:${channelId}:${userId}`;
}

/** What auth answers for (channel, user), and what the cache holds. */
export interface MembershipAnswer {
  readonly channelId: string;
  readonly userId: string;
  /** True only for an active member of a channel that is not deleted. */
  readonly member: boolean;
  readonly role: 'owner' | 'member' | null;
  /** `missing` when no such channel exists. */
  readonly channel: 'active' | 'deleted' | 'missing';
  readonly visibility: 'public' | 'private' | null;
  /** Version of the membership row (0 when there never was one). */
  readonly version: number;
}

/** The subset of a Redis client (ioredis) the cache uses. */
export interface CacheRedis {
  get(key: string): Promise<string | null>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** KEYS[1] key; ARGV[1] JSON value, ARGV[2] its version, ARGV[3] TTL seconds. 1 = written. */
export const SET_IF_NEWER_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' and tonumber(decoded['version']) and
     tonumber(decoded['version']) > tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[3]))
return 1
`;

/** Writes `answer` unless the cache already holds a newer version. True when written. */
export async function writeMembershipCache(
  redis: CacheRedis,
  answer: MembershipAnswer,
  ttlSeconds = MEMBERSHIP_TTL_SECONDS,
): Promise<boolean> {
  const written = await redis.eval(
    SET_IF_NEWER_SCRIPT,
    1,
    membershipKey(answer.channelId, answer.userId),
    JSON.stringify(answer),
    answer.version,
    ttlSeconds,
  );
  return written === 1;
}

/** The cached answer, or null on a miss or an unreadable entry. */
export async function readMembershipCache(
  redis: CacheRedis,
  channelId: string,
  userId: string,
): Promise<MembershipAnswer | null> {
  const raw = await redis.get(membershipKey(channelId, userId));
  if (raw === null) return null;
  try {
    const v = JSON.parse(raw) as Partial<MembershipAnswer>;
    if (typeof v.member !== 'boolean' || typeof v.version !== 'number' || typeof v.channel !== 'string') {
      return null;
    }
    return { ...(v as MembershipAnswer), channelId, userId };
  } catch {
    return null;
  }
}
