// A JSON client for the auth and message APIs, and users with channels for the tests.
import { randomBytes } from 'node:crypto';
import { call } from '@chatcluster/harness';

export { call, type ApiResponse } from '@chatcluster/harness';

export interface TestUser {
  id: string;
  username: string;
  token: string;
}

export async function signup(authUrl: string, prefix: string): Promise<TestUser> {
  const username = `${prefix.slice(0, 10)}_${randomBytes(6).toString('hex')}`;
  const res = await call<{ user: { id: string }; accessToken: string }>(
    authUrl,
    'POST',
    '/api/v1/auth/signup',
    {
      body: { username, email: `${username}@example.test`, password: 'correct horse battery' },
    },
  );
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, username, token: res.body.accessToken };
}

/** A public channel owned by `owner` that every one of `members` joined. */
export async function channelWith(
  authUrl: string,
  owner: TestUser,
  members: TestUser[],
  visibility: 'public' | 'private' = 'public',
): Promise<string> {
  const res = await call<{ id: string }>(authUrl, 'POST', '/api/v1/channels', {
    body: { name: `c-${randomBytes(4).toString('hex')}`, visibility },
    token: owner.token,
  });
  if (res.status !== 201) throw new Error(`create channel: ${res.status} ${JSON.stringify(res.body)}`);
  for (const m of members) {
    const joined = await call(authUrl, 'POST', `/api/v1/channels/${res.body.id}/join`, { token: m.token });
    if (joined.status !== 200) throw new Error(`join: ${joined.status} ${JSON.stringify(joined.body)}`);
  }
  return res.body.id;
}

export async function eventually<T>(
  probe: () => T | Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    last = await probe();
  }
  return last;
}
