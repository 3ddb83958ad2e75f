import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Api, eventually, uniqueName, type ErrorBody, type SessionBody } from './client.js';
import { INTERNAL_TOKEN, bootAuth, type TestAuth } from './support.js';

describe('auth: channels and memberships', function () {
  let auth: TestAuth;
  let api: Api;
  let owner: SessionBody;
  let outsider: SessionBody;

  before(async () => {
    auth = await bootAuth('channels');
    api = new Api(auth.url);
    owner = await api.signup(uniqueName('owner'));
    outsider = await api.signup(uniqueName('outsider'));
  });
  after(async () => {
    await auth?.stop();
  });

  async function privateChannel(): Promise<string> {
    const res = await api.post<{ id: string }>(
      '/api/v1/channels',
      { name: 'secret plans', visibility: 'private' },
      owner.accessToken,
    );
    expect(res.status).to.equal(201);
    return res.body.id;
  }

  it('hides a private channel from non-members: no read, no join, no member list, not listed', async () => {
    const id = await privateChannel();
    const read = await api.get<ErrorBody>(`/api/v1/channels/${id}`, outsider.accessToken);
    expect(read.status).to.equal(404);
    expect(read.body.error.code).to.equal('AUTH_CHANNEL_NOT_FOUND');
    expect((await api.post(`/api/v1/channels/${id}/join`, {}, outsider.accessToken)).status).to.equal(404);
    expect((await api.get(`/api/v1/channels/${id}/members`, outsider.accessToken)).status).to.equal(404);
    const listed = await api.get<{ items: { id: string }[] }>(
      '/api/v1/channels?limit=100',
      outsider.accessToken,
    );
    expect(listed.body.items.map((c) => c.id)).to.not.include(id);
    // the owner sees it
    expect((await api.get(`/api/v1/channels/${id}`, owner.accessToken)).status).to.equal(200);
    // and the internal lookup says "not a member"
    const lookup = await api.get<{ member: boolean }>(
      `/internal/v1/channels/${id}/members/${outsider.user.id}`,
      INTERNAL_TOKEN,
    );
    expect(lookup.body.member).to.equal(false);
  });

  it('lets only owners add members to a private channel, and members then read it', async () => {
    const id = await privateChannel();
    const member = await api.signup(uniqueName('member'));
    // an outsider cannot add themselves
    const self = await api.post(
      `/api/v1/channels/${id}/members`,
      { userId: outsider.user.id },
      outsider.accessToken,
    );
    expect(self.status).to.equal(404);
    // the owner adds a member
    const added = await api.post<{ role: string }>(
      `/api/v1/channels/${id}/members`,
      { userId: member.user.id },
      owner.accessToken,
    );
    expect(added.status).to.equal(201);
    expect(added.body.role).to.equal('member');
    expect((await api.get(`/api/v1/channels/${id}`, member.accessToken)).status).to.equal(200);
    // a plain member cannot add others to a private channel, nor remove anyone
    const byMember = await api.post<ErrorBody>(
      `/api/v1/channels/${id}/members`,
      { userId: outsider.user.id },
      member.accessToken,
    );
    expect(byMember.status).to.equal(403);
    expect(byMember.body.error.code).to.equal('FORBIDDEN');
    expect(
      (await api.del(`/api/v1/channels/${id}/members/${owner.user.id}`, member.accessToken)).status,
    ).to.equal(403);
    // adding an unknown user
    const ghost = await api.post<ErrorBody>(
      `/api/v1/channels/${id}/members`,
      { userId: '00000000-0000-4000-8000-000000000000' },
      owner.accessToken,
    );
    expect(ghost.status).to.equal(404);
    expect(ghost.body.error.code).to.equal('AUTH_USER_NOT_FOUND');
    // the owner removes the member, who loses access at once
    expect(
      (await api.del(`/api/v1/channels/${id}/members/${member.user.id}`, owner.accessToken)).status,
    ).to.equal(204);
    expect((await api.get(`/api/v1/channels/${id}`, member.accessToken)).status).to.equal(404);
  });

  it('keeps a last owner from leaving', async () => {
    const id = await privateChannel();
    const res = await api.post<ErrorBody>(`/api/v1/channels/${id}/leave`, {}, owner.accessToken);
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal('AUTH_LAST_OWNER');
  });

  it('deletes softly: only owners, a channel.deleted event, gone from every listing and lookup', async () => {
    const created = await api.post<{ id: string }>('/api/v1/channels', { name: 'doomed' }, owner.accessToken);
    const id = created.body.id;
    const member = await api.signup(uniqueName('member'));
    await api.post(`/api/v1/channels/${id}/join`, {}, member.accessToken);

    const forbidden = await api.del<ErrorBody>(`/api/v1/channels/${id}`, member.accessToken);
    expect(forbidden.status).to.equal(403);

    const sub = new Redis(auth.redisUrl, { lazyConnect: true });
    const events: { type: string; channelId: string; seq: number }[] = [];
    try {
      await sub.connect();
      await sub.subscribe('chat:channel-events');
      sub.on('message', (_channel: string, message: string) => {
        events.push(JSON.parse(message) as { type: string; channelId: string; seq: number });
      });

      expect((await api.del(`/api/v1/channels/${id}`, owner.accessToken)).status).to.equal(204);
      const deletedEvents = await eventually(
        () => Promise.resolve(events.filter((e) => e.type === 'channel.deleted' && e.channelId === id)),
        (list) => list.length > 0,
        5_000,
        50,
      );
      expect(deletedEvents).to.have.length(1);
      expect(deletedEvents[0]!.seq).to.be.a('number');
    } finally {
      sub.disconnect();
    }

    expect((await api.get(`/api/v1/channels/${id}`, owner.accessToken)).status).to.equal(404);
    expect((await api.del(`/api/v1/channels/${id}`, owner.accessToken)).status).to.equal(404);
    expect((await api.post(`/api/v1/channels/${id}/join`, {}, outsider.accessToken)).status).to.equal(404);
    const mine = await api.get<{ items: { id: string }[] }>('/api/v1/me/channels', member.accessToken);
    expect(mine.body.items.map((c) => c.id)).to.not.include(id);
    const all = await api.get<{ items: { id: string }[] }>('/api/v1/channels?limit=100', member.accessToken);
    expect(all.body.items.map((c) => c.id)).to.not.include(id);

    // the cached membership of every member now says "deleted", without waiting for the TTL
    const cached = JSON.parse((await auth.redis.get(`chat:membership:${id}:${member.user.id}`))!) as {
      member: boolean;
      channel: string;
    };
    expect(cached).to.include({ member: false, channel: 'deleted' });
    const lookup = await api.get<{ member: boolean; channel: string }>(
      `/internal/v1/channels/${id}/members/${member.user.id}`,
      INTERNAL_TOKEN,
    );
    expect(lookup.body).to.include({ member: false, channel: 'deleted' });
    const internalList = await api.get<{ channel: string; members: unknown[] }>(
      `/internal/v1/channels/${id}/members`,
      INTERNAL_TOKEN,
    );
    expect(internalList.body).to.deep.include({ channel: 'deleted', members: [] });
    // consumers that missed the event catch up here
    const deleted = await api.get<{ channels: { channelId: string }[] }>(
      '/internal/v1/channels/deleted?afterSeq=0',
      INTERNAL_TOKEN,
    );
    expect(deleted.body.channels.map((c) => c.channelId)).to.include(id);
  });

  it('paginates listings with an opaque cursor', async () => {
    const user = await api.signup(uniqueName('pager'));
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(
        (
          await api.post<{ id: string }>(
            '/api/v1/channels',
            { name: `p${i}`, visibility: 'private' },
            user.accessToken,
          )
        ).body.id,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await api.get(
        `/api/v1/me/channels?limit=2${query}`,
        user.accessToken,
      );
      seen.push(...page.body.items.map((c) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).to.deep.equal([...ids].reverse());
  });

  it('lets any member of a public channel add members, but only owners make owners', async () => {
    const pub = await api.post<{ id: string }>('/api/v1/channels', { name: 'lobby' }, owner.accessToken);
    const m1 = await api.signup(uniqueName('m1'));
    const m2 = await api.signup(uniqueName('m2'));
    await api.post(`/api/v1/channels/${pub.body.id}/join`, {}, m1.accessToken);
    const add = await api.post(
      `/api/v1/channels/${pub.body.id}/members`,
      { userId: m2.user.id },
      m1.accessToken,
    );
    expect(add.status).to.equal(201);
    const promote = await api.post(
      `/api/v1/channels/${pub.body.id}/members`,
      { userId: m2.user.id, role: 'owner' },
      m1.accessToken,
    );
    expect(promote.status).to.equal(403);
    const byOwner = await api.post<{ role: string }>(
      `/api/v1/channels/${pub.body.id}/members`,
      { userId: m2.user.id, role: 'owner' },
      owner.accessToken,
    );
    expect(byOwner.status).to.equal(200);
    expect(byOwner.body.role).to.equal('owner');
  });
});
