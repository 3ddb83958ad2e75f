// Sessions: sign-up, log-in, refresh-token rotation with reuse detection, log-out.
import { randomUUID } from 'node:crypto';
import { kitErrors, type RateLimitRule, type RedisRateLimiter } from '@chatcluster/kit';
import type { Database, Sql } from '../db/database.js';
import { uniqueViolation } from '../db/errors.js';
import { authErrors } from '../errors.js';
import type { PasswordHasher } from '../passwords.js';
import {
  deleteExpiredRefreshTokens,
  findRefreshTokenForUpdate,
  insertRefreshToken,
  markRefreshTokenUsed,
  revokeFamily,
} from '../repositories/refresh-tokens.js';
import {
  createUser,
  EMAIL_TAKEN,
  updatePasswordHash,
  findUserById,
  findUserByUsername,
  publicUser,
  USERNAME_TAKEN,
  type User,
} from '../repositories/users.js';
import { issueAccessToken, type AccessTokenOptions } from '../tokens/access-token.js';
import type { KeyStore } from '../tokens/key-store.js';
import { hashRefreshToken, looksLikeRefreshToken, newRefreshToken } from '../tokens/refresh-token.js';

export interface Session {
  readonly user: User;
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
  readonly refreshToken: string;
}

export interface SessionLimits {
  /** Login attempts per client IP (every attempt counts). */
  readonly loginPerIp: RateLimitRule;
  /**
   * Login attempts per account (every attempt that could check a password counts; a success clears
   * the count).
   */
  readonly loginPerAccount: RateLimitRule;
  /** Sign-ups per client IP. */
  readonly signupPerIp: RateLimitRule;
}

export interface SessionServiceOptions {
  readonly access: AccessTokenOptions;
  readonly refreshTokenTtlSeconds: number;
  readonly limits: SessionLimits;
}

export type RefreshOutcome = 'rotated' | 'reused' | 'invalid';

/** Counts outcomes for metrics and logs. */
export interface SessionObserver {
  login?(outcome: 'success' | 'failure' | 'rate_limited'): void;
  refresh?(outcome: RefreshOutcome | 'expired'): void;
  familyRevoked?(info: { familyId: string; userId: string; tokens: number }): void;
}

/**
 * Sign-up, log-in, refresh and log-out. A session is a refresh-token family: every refresh marks
 * the presented token used and issues its successor; presenting a used token again means it was
 * copied, so the whole family is revoked and both holders must log in again.
 */
export class SessionService {
  constructor(
    private readonly db: Database,
    private readonly keys: KeyStore,
    private readonly passwords: PasswordHasher,
    private readonly limiter: RedisRateLimiter,
    private readonly options: SessionServiceOptions,
    private readonly observer: SessionObserver = {},
  ) {}

  async signup(
    input: { username: string; email: string; password: string; displayName?: string | undefined },
    clientIp: string,
  ): Promise<Session> {
    const limit = await this.limiter.consume([this.options.limits.signupPerIp], clientIp);
    if (!limit.allowed)
      throw kitErrors.RATE_LIMITED('too many attempts; try again later', {
        retryAfterSeconds: limit.retryAfterSeconds,
      });
    const passwordHash = await this.passwords.hash(input.password);
    try {
      return await this.db.write('users.signup', async (sql) => {
        const user = await createUser(sql, {
          username: input.username,
          email: input.email,
          displayName: input.displayName ?? input.username,
          passwordHash,
        });
        return this.startSession(sql, user);
      });
    } catch (err) {
      const constraint = uniqueViolation(err);
      if (constraint === USERNAME_TAKEN) throw authErrors.AUTH_USERNAME_TAKEN('username is taken');
      if (constraint === EMAIL_TAKEN)
        throw authErrors.AUTH_EMAIL_TAKEN('e-mail address is already registered');
      throw err;
    }
  }

  async login(input: { username: string; password: string }, clientIp: string): Promise<Session> {
    await this.admitLogin(this.options.limits.loginPerIp, clientIp);
    const user = await this.db.read('users.by_username', (sql) => findUserByUsername(sql, input.username));
    // The account's count is taken only now, for known and unknown names alike: an attempt answered
    // 503 while PostgreSQL is down checked no password, and counting it would lock the account out
    // for its window once the database is back.
    const account = input.username.toLowerCase();
    await this.admitLogin(this.options.limits.loginPerAccount, account);
    const ok = user
      ? await this.passwords.verify(user.passwordHash, input.password)
      : await this.passwords.verifyDummy(input.password);
    if (!user || !ok) {
      this.observer.login?.('failure');
      throw authErrors.AUTH_INVALID_CREDENTIALS('wrong username or password');
    }
    await this.limiter.reset([this.options.limits.loginPerAccount], account);
    // Hashes made with weaker parameters than today's are upgraded while the password is at hand.
    const upgraded = this.passwords.needsRehash(user.passwordHash)
      ? await this.passwords.hash(input.password)
      : null;
    const session = await this.db.write('sessions.start', async (sql) => {
      if (upgraded) await updatePasswordHash(sql, user.id, upgraded);
      return this.startSession(sql, user);
    });
    this.observer.login?.('success');
    return session;
  }

  private async admitLogin(rule: RateLimitRule, key: string): Promise<void> {
    const decision = await this.limiter.consume([rule], key);
    if (decision.allowed) return;
    this.observer.login?.('rate_limited');
    throw kitErrors.RATE_LIMITED('too many attempts; try again later', {
      retryAfterSeconds: decision.retryAfterSeconds,
    });
  }

  async refresh(refreshToken: string): Promise<Session> {
    if (!looksLikeRefreshToken(refreshToken)) {
      this.observer.refresh?.('invalid');
      throw authErrors.AUTH_INVALID_REFRESH_TOKEN('the refresh token is not valid; log in again');
    }
    const hash = hashRefreshToken(refreshToken);
    const result = await this.db.write('sessions.refresh', async (sql) => {
      const row = await findRefreshTokenForUpdate(sql, hash);
      if (!row) return { outcome: 'invalid' as const };
      if (row.usedAt !== null || row.revokedAt !== null) {
        // Reuse: the token was rotated (or its family revoked) and still someone presents it.
        // The revocation commits with this transaction even though the request fails.
        const tokens = await revokeFamily(sql, row.familyId, 'reuse-detected');
        return { outcome: 'reused' as const, familyId: row.familyId, userId: row.userId, tokens };
      }
      if (row.expired) return { outcome: 'expired' as const };
      const user = await findUserById(sql, row.userId);
      if (!user) return { outcome: 'invalid' as const };
      const next = newRefreshToken();
      const nextId = await insertRefreshToken(sql, {
        familyId: row.familyId,
        userId: row.userId,
        tokenHash: hashRefreshToken(next),
        ttlSeconds: this.options.refreshTokenTtlSeconds,
      });
      await markRefreshTokenUsed(sql, row.id, nextId);
      return { outcome: 'rotated' as const, user, refreshToken: next };
    });
    this.observer.refresh?.(result.outcome);
    switch (result.outcome) {
      case 'rotated':
        return this.session(result.user, result.refreshToken);
      case 'reused':
        if (result.tokens > 0) {
          this.observer.familyRevoked?.({
            familyId: result.familyId,
            userId: result.userId,
            tokens: result.tokens,
          });
        }
        throw authErrors.AUTH_REFRESH_TOKEN_REUSED(
          'the refresh token was already used; every session of this login is ended, log in again',
        );
      default:
        throw authErrors.AUTH_INVALID_REFRESH_TOKEN('the refresh token is not valid; log in again');
    }
  }

  /** Ends the session the refresh token belongs to. Idempotent: unknown tokens are fine. */
  async logout(refreshToken: string): Promise<void> {
    if (!looksLikeRefreshToken(refreshToken)) return;
    const hash = hashRefreshToken(refreshToken);
    await this.db.write('sessions.logout', async (sql) => {
      const row = await findRefreshTokenForUpdate(sql, hash);
      if (row) await revokeFamily(sql, row.familyId, 'logout');
    });
  }

  /** Deletes up to `limit` refresh tokens expired more than `graceSeconds` ago; returns how many. */
  purgeExpired(graceSeconds: number, limit: number): Promise<number> {
    return this.db.write('sessions.purge_expired', (sql) =>
      deleteExpiredRefreshTokens(sql, graceSeconds, limit),
    );
  }

  async me(userId: string): Promise<User> {
    const user = await this.db.read('users.by_id', (sql) => findUserById(sql, userId));
    if (!user) throw kitErrors.UNAUTHENTICATED('the user of this token no longer exists');
    return user;
  }

  private async startSession(sql: Sql, user: User): Promise<Session> {
    const refreshToken = newRefreshToken();
    await insertRefreshToken(sql, {
      familyId: randomUUID(),
      userId: user.id,
      tokenHash: hashRefreshToken(refreshToken),
      ttlSeconds: this.options.refreshTokenTtlSeconds,
    });
    return this.session(user, refreshToken);
  }

  private async session(user: User, refreshToken: string): Promise<Session> {
    const access = await issueAccessToken(this.keys, this.options.access, user);
    // publicUser: a login's user row carries the password hash, which must never reach a response.
    return {
      user: publicUser(user),
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
      refreshToken,
    };
  }
}
