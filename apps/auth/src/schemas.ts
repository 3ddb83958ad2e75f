// Request schemas (zod), checked with the kit's validate() before anything reaches a query.
import { z } from 'zod';

/**
 * Request schemas. Every field has a type, a length bound and (for names) a character set, so
 * oversize or hostile input is refused with 400 before it reaches a query; the queries are all
 * parameterised besides.
 */

// No control characters (C0, DEL, C1), no lone surrogates; printable text of any script is fine.
const printable = /^[^\p{Cc}\p{Cs}]*$/u;

export const username = z
  .string()
  .min(3)
  .max(32)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, dot, dash and underscore only');

export const password = z.string().min(8).max(256);

export const signupBody = z.object({
  username,
  email: z.email().max(254),
  password,
  displayName: z.string().trim().min(1).max(64).regex(printable, 'no control characters').optional(),
});

export const loginBody = z.object({
  // Looser than sign-up so old or odd usernames still get a clean 401, not a 400.
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

export const refreshBody = z.object({ refreshToken: z.string().min(1).max(200) });

export const visibility = z.enum(['public', 'private']);
export const role = z.enum(['owner', 'member']);

export const createChannelBody = z.object({
  name: z.string().trim().min(1).max(80).regex(printable, 'no control characters'),
  description: z.string().trim().max(500).regex(printable, 'no control characters').default(''),
  visibility: visibility.default('public'),
});

export const addMemberBody = z.object({
  userId: z.uuid(),
  role: role.default('member'),
});

export const channelParams = z.object({ channelId: z.uuid() });
export const memberParams = z.object({ channelId: z.uuid(), userId: z.uuid() });

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
});

export const internalMembersQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
  cursor: z.uuid().optional(),
});

export const deletedChannelsQuery = z.object({
  afterSeq: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});
