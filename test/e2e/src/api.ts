// The platform's HTTP APIs as a user calls them: sign-up and channels (auth), history, edits and
// reactions (message), devices (notification). Every call is bounded in time.
import { randomBytes } from 'node:crypto';
import { call, type ApiResponse } from '@chatcluster/harness';
import type { MessageView } from '@chatcluster/message-sdk';

/** The answer as an error naming the call, for unexpected statuses. */
function unexpected(what: string, res: ApiResponse<unknown>): Error {
  return new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
}

export interface User {
  id: string;
  username: string;
  password: string;
  /** The current access token (15 min); `refresh` renews it. */
  token: string;
  refreshToken: string;
}

export const PASSWORD = 'correct horse battery';

/** A unique username starting with `prefix` (at most 10 characters of it). */
export function username(prefix: string): string {
  return `${prefix.slice(0, 10)}_${randomBytes(5).toString('hex')}`;
}

interface Session {
  user: { id: string };
  accessToken: string;
  refreshToken: string;
}

export async function signUp(authUrl: string, prefix: string): Promise<User> {
  const name = username(prefix);
  const res = await call<Session>(authUrl, 'POST', '/api/v1/auth/signup', {
    body: { username: name, email: `${name}@example.test`, password: PASSWORD },
  });
  if (res.status !== 201) throw unexpected('sign-up', res);
  return {
    id: res.body.user.id,
    username: name,
    password: PASSWORD,
    token: res.body.accessToken,
    refreshToken: res.body.refreshToken,
  };
}

/** Renews the user's tokens in place (the refresh token is used up; the new one is kept). */
export async function refresh(authUrl: string, user: User): Promise<void> {
  const res = await call<Session>(authUrl, 'POST', '/api/v1/auth/refresh', {
    body: { refreshToken: user.refreshToken },
  });
  if (res.status !== 200) throw unexpected('refresh', res);
  user.token = res.body.accessToken;
  user.refreshToken = res.body.refreshToken;
}

export function logIn(
  authUrl: string,
  user: Pick<User, 'username' | 'password'>,
  timeoutMs?: number,
): Promise<
  ApiResponse<{
    accessToken?: string;
    refreshToken?: string;
    user?: { id: string };
    error?: { code: string };
  }>
> {
  return call(authUrl, 'POST', '/api/v1/auth/login', {
    body: { username: user.username, password: user.password },
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

/** A public channel owned by `owner`; returns its id. */
export async function createChannel(authUrl: string, owner: User, name?: string): Promise<string> {
  const res = await call<{ id: string }>(authUrl, 'POST', '/api/v1/channels', {
    body: { name: name ?? `c-${randomBytes(4).toString('hex')}`, visibility: 'public' },
    token: owner.token,
  });
  if (res.status !== 201) throw unexpected('create channel', res);
  return res.body.id;
}

export async function joinChannel(authUrl: string, user: User, channelId: string): Promise<void> {
  const res = await call(authUrl, 'POST', `/api/v1/channels/${channelId}/join`, { token: user.token });
  if (res.status !== 200) throw unexpected('join', res);
}

/** Registers an FCM device token for the user with the notification service. */
export async function registerDevice(
  notificationUrl: string,
  user: User,
  deviceToken: string,
): Promise<void> {
  const res = await call(notificationUrl, 'POST', '/api/v1/me/devices', {
    body: { token: deviceToken, platform: 'android' },
    token: user.token,
  });
  if (res.status !== 201 && res.status !== 200) throw unexpected('register device', res);
}

export interface HistoryPage {
  items: MessageView[];
  prevBefore: number | null;
  nextAfter: number | null;
  source: 'store' | 'cache';
}

export async function historyPage(
  messageUrl: string,
  user: User,
  channelId: string,
  query: { before?: number; after?: number; limit?: number } = {},
): Promise<HistoryPage> {
  const params = new URLSearchParams({ channelId });
  for (const [key, value] of Object.entries(query)) params.set(key, String(value));
  const res = await call<HistoryPage>(messageUrl, 'GET', `/api/v1/messages?${params}`, { token: user.token });
  if (res.status !== 200) throw unexpected('history', res);
  return res.body;
}
