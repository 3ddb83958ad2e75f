// Users and a channel created through auth's public API, so the notification service resolves
// members through auth's real internal API; plus the settings calls a user's app would make.
import { randomUUID } from 'node:crypto';

export interface TestUser {
  readonly userId: string;
  readonly username: string;
  readonly displayName: string;
  readonly email: string;
  readonly accessToken: string;
}

export interface World {
  readonly channelId: string;
  /** Owner of the channel; sends the messages. */
  readonly sender: TestUser;
  readonly members: readonly TestUser[];
}

async function call<T>(
  url: string,
  init: RequestInit & { token?: string; expect?: number[] } = {},
): Promise<T> {
  const res = await fetch(url, {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.headers as Record<string, string> | undefined),
    },
  });
  const text = await res.text();
  const expected = init.expect ?? [200, 201, 204];
  if (!expected.includes(res.status)) {
    throw new Error(`${init.method ?? 'GET'} ${url} answered ${res.status}: ${text}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function signup(authUrl: string, name: string): Promise<TestUser> {
  const username = `${name}_${randomUUID().slice(0, 8)}`;
  const email = `${username}@mail.test`;
  const session = await call<{ user: { id: string; displayName: string }; accessToken: string }>(
    `${authUrl}/api/v1/auth/signup`,
    {
      method: 'POST',
      body: JSON.stringify({
        username,
        email,
        password: 'correct horse battery',
        displayName: `User ${name}`,
      }),
    },
  );
  return {
    userId: session.user.id,
    username,
    displayName: session.user.displayName,
    email,
    accessToken: session.accessToken,
  };
}

/** A public channel owned by a new sender, with `names.length` new members. */
export async function createWorld(authUrl: string, names: readonly string[]): Promise<World> {
  const [sender, ...members] = await Promise.all([
    signup(authUrl, 'sender'),
    ...names.map((n) => signup(authUrl, n)),
  ]);
  const channel = await call<{ id: string }>(`${authUrl}/api/v1/channels`, {
    method: 'POST',
    token: sender.accessToken,
    body: JSON.stringify({ name: `notify-${randomUUID().slice(0, 8)}` }),
  });
  for (const member of members) {
    await call(`${authUrl}/api/v1/channels/${channel.id}/members`, {
      method: 'POST',
      token: sender.accessToken,
      body: JSON.stringify({ userId: member.userId }),
    });
  }
  return { channelId: channel.id, sender: sender, members };
}

/** A plausible FCM registration token, unique per call. */
export function fcmToken(label: string): string {
  return `${label}:APA91b${randomUUID().replace(/-/g, '')}${randomUUID().replace(/-/g, '')}`;
}

/** Settings API of the notification service, as the user's app calls it. */
export function settingsApi(serviceUrl: string, user: TestUser) {
  const token = user.accessToken;
  return {
    registerDevice: (fcm: string, platform = 'android') =>
      call<{ id: string }>(`${serviceUrl}/api/v1/me/devices`, {
        method: 'POST',
        token,
        body: JSON.stringify({ token: fcm, platform }),
      }),
    removeDevice: (id: string) => call(`${serviceUrl}/api/v1/me/devices/${id}`, { method: 'DELETE', token }),
    update: (change: { mode?: string; email?: string | null }) =>
      call<{ mode: string; email: string | null; devices: { id: string }[]; mutedChannels: string[] }>(
        `${serviceUrl}/api/v1/me/notification-settings`,
        { method: 'PATCH', token, body: JSON.stringify(change) },
      ),
    get: () =>
      call<{ mode: string; email: string | null; devices: { id: string }[]; mutedChannels: string[] }>(
        `${serviceUrl}/api/v1/me/notification-settings`,
        { token },
      ),
    mute: (channelId: string) =>
      call(`${serviceUrl}/api/v1/me/muted-channels/${channelId}`, { method: 'PUT', token }),
  };
}
