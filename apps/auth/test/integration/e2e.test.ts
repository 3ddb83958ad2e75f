import {
  JwksVerifier,
  MembershipClient,
  readMembershipCache,
  writeMembershipCache,
} from '@chatcluster/auth-client';
import { expect } from 'chai';
import { Api, uniqueName, type ErrorBody, type SessionBody } from './client.js';
import { INTERNAL_TOKEN, bootAuth, type TestAuth } from './support.js';

describe('auth: sign-up to channel join to token refresh, end to end', function () {
  let auth: TestAuth;
  let api: Api;

  before(async () => {
    auth = await bootAuth('e2e');
    api = new Api(auth.url);
  });
  after(async () => {
    await auth?.stop();
  });

  it('signs up, creates a channel, lets another user join, refreshes and logs out', async () => {
    const alice = await api.signup(uniqueName('alice'));
    expect(alice.tokenType).to.equal('Bearer');
    expect(alice.expiresIn).to.equal(900);
    expect(alice.refreshToken).to.match(/^ccrt_/);
    expect(alice.user).to.have.keys(['id', 'username', 'email', 'displayName', 'createdAt']);

    const created = await api.post<{ id: string; myRole: string; visibility: string }>(
      '/api/v1/channels',
      { name: 'general', visibility: 'public' },
      alice.accessToken,
    );
    expect(created.status).to.equal(201);
    expect(created.body.myRole).to.equal('owner');
    const channelId = created.body.id;

    const bob = await api.signup(uniqueName('bob'));
    const joined = await api.post<{ role: string; userId: string }>(
      `/api/v1/channels/${channelId}/join`,
      {},
      bob.accessToken,
    );
    expect(joined.status).to.equal(200);
    expect(joined.body).to.include({ role: 'member', userId: bob.user.id });
    // joining again is idempotent
    expect((await api.post(`/api/v1/channels/${channelId}/join`, {}, bob.accessToken)).status).to.equal(200);

    const mine = await api.get<{ items: { id: string; myRole: string }[] }>(
      '/api/v1/me/channels',
      bob.accessToken,
    );
    expect(mine.body.items.map((c) => c.id)).to.deep.equal([channelId]);

    const members = await api.get<{ items: Record<string, unknown>[] }>(
      `/api/v1/channels/${channelId}/members`,
      bob.accessToken,
    );
    expect(members.body.items.map((m) => m['role']).sort()).to.deep.equal(['member', 'owner']);
    expect(members.body.items[0]).to.not.have.property('email'); // not shown to other users

    // refresh: a new pair, the new access token works, the old refresh token is used up
    const refreshed = await api.post<SessionBody>('/api/v1/auth/refresh', { refreshToken: bob.refreshToken });
    expect(refreshed.status).to.equal(200);
    expect(refreshed.body.refreshToken).to.not.equal(bob.refreshToken);
    expect(refreshed.body.user.id).to.equal(bob.user.id);
    const me = await api.get<{ id: string }>('/api/v1/me', refreshed.body.accessToken);
    expect(me.status).to.equal(200);
    expect(me.body.id).to.equal(bob.user.id);

    // logout ends the family: the latest refresh token no longer works
    expect(
      (await api.post('/api/v1/auth/logout', { refreshToken: refreshed.body.refreshToken })).status,
    ).to.equal(204);
    const after = await api.post<{ error: { code: string } }>('/api/v1/auth/refresh', {
      refreshToken: refreshed.body.refreshToken,
    });
    expect(after.status).to.equal(401);

    // log in again by username, case-insensitively
    const again = await api.post<SessionBody>('/api/v1/auth/login', {
      username: bob.user.username.toUpperCase(),
      password: 'correct horse battery',
    });
    expect(again.status).to.equal(200);
    expect(again.body.user.id).to.equal(bob.user.id);
    // the user row behind a login carries the password hash; the answer must not
    expect(again.body.user).to.have.keys(['id', 'username', 'email', 'displayName', 'createdAt']);
  });

  it('issues tokens other services verify locally from the published JWKS', async () => {
    const carol = await api.signup(uniqueName('carol'));
    const jwks = await api.get<{ keys: { kid: string; alg: string; kty: string; d?: string }[] }>(
      '/.well-known/jwks.json',
    );
    expect(jwks.status).to.equal(200);
    expect(jwks.headers.get('cache-control')).to.match(/max-age=\d+/);
    expect(jwks.body.keys.length).to.be.at.least(1);
    for (const k of jwks.body.keys) {
      expect(k.alg).to.equal('EdDSA');
      expect(k).to.not.have.property('d'); // never the private part
    }
    const verifier = new JwksVerifier({
      jwksUrl: `${auth.url}/.well-known/jwks.json`,
      issuer: auth.issuer,
      audience: auth.audience,
    });
    const claims = await verifier.verify(carol.accessToken);
    expect(claims.sub).to.equal(carol.user.id);
    expect(claims.name).to.equal(carol.user.username);
    expect(claims.exp - claims.iat).to.equal(900);
  });

  it('answers membership lookups and keeps the Redis cache current on every change', async () => {
    const owner = await api.signup(uniqueName('owner'));
    const dave = await api.signup(uniqueName('dave'));
    const ch = await api.post<{ id: string }>('/api/v1/channels', { name: 'ops' }, owner.accessToken);
    const key = `chat:membership:${ch.body.id}:${dave.user.id}`;
    const client = new MembershipClient({
      authUrl: auth.url,
      redis: auth.redis,
      timeoutMs: 2000,
      internalToken: INTERNAL_TOKEN,
    });

    const before = await client.lookup(ch.body.id, dave.user.id);
    expect(before).to.include({ member: false, channel: 'active', visibility: 'public' });
    expect(await auth.redis.ttl(key)).to.be.within(290, 300);

    await api.post(`/api/v1/channels/${ch.body.id}/join`, {}, dave.accessToken);
    // auth wrote the new answer: no stale "not a member" for five minutes
    const joined = await client.lookup(ch.body.id, dave.user.id);
    expect(joined).to.include({ member: true, role: 'member' });
    expect(joined.version).to.be.greaterThan(before.version);

    await api.post(`/api/v1/channels/${ch.body.id}/leave`, {}, dave.accessToken);
    expect((await client.lookup(ch.body.id, dave.user.id)).member).to.equal(false);

    const direct = await api.get<{ member: boolean; channel: string }>(
      `/internal/v1/channels/${ch.body.id}/members/${owner.user.id}`,
      INTERNAL_TOKEN,
    );
    expect(direct.body).to.include({ member: true, channel: 'active' });

    const list = await client.listMembers(ch.body.id);
    expect(list.map((m) => m.userId)).to.deep.equal([owner.user.id]);
    expect(list[0]!.email).to.equal(owner.user.email);
  });

  it('requires the service token on the internal API', async () => {
    const owner = await api.signup(uniqueName('svc'));
    const ch = await api.post<{ id: string }>('/api/v1/channels', { name: 'svc' }, owner.accessToken);
    const path = `/internal/v1/channels/${ch.body.id}/members/${owner.user.id}`;
    const missing = await api.get<ErrorBody>(path);
    expect(missing.status).to.equal(401);
    expect(missing.body.error.code).to.equal('UNAUTHENTICATED');
    expect((await api.get(path, 'wrong-token-wrong-token')).status).to.equal(401);
    expect((await api.get(path, INTERNAL_TOKEN)).status).to.equal(200);
    const client = new MembershipClient({ authUrl: auth.url, redis: null, internalToken: INTERNAL_TOKEN });
    expect((await client.lookup(ch.body.id, owner.user.id)).role).to.equal('owner');
    client.close();
  });

  it('fails closed: without a configured token the internal API refuses every request', async () => {
    const unguarded = await auth.replica({ INTERNAL_API_TOKEN: '' });
    try {
      const owner = await api.signup(uniqueName('open'));
      const ch = await api.post<{ id: string }>('/api/v1/channels', { name: 'open' }, owner.accessToken);
      const internalApi = new Api(unguarded.url);
      for (const path of [
        `/internal/v1/channels/${ch.body.id}/members/${owner.user.id}`,
        `/internal/v1/channels/${ch.body.id}/members`,
        '/internal/v1/channels/deleted?afterSeq=0',
      ]) {
        for (const token of [undefined, INTERNAL_TOKEN]) {
          const refused = await internalApi.get<ErrorBody>(path, token);
          expect(refused.status, `${path} with ${token ? 'a' : 'no'} token`).to.equal(401);
          expect(refused.body.error.message).to.match(/INTERNAL_API_TOKEN is not configured/);
        }
      }
      // The public API of the same replica still serves.
      expect((await internalApi.get(`/api/v1/channels/${ch.body.id}`, owner.accessToken)).status).to.equal(
        200,
      );
    } finally {
      await unguarded.stop();
    }
  });

  it('never lets an older lookup answer overwrite a newer cached one (real Redis script)', async () => {
    const owner = await api.signup(uniqueName('race'));
    const ch = await api.post<{ id: string }>('/api/v1/channels', { name: 'race' }, owner.accessToken);
    const base = {
      channelId: ch.body.id,
      userId: owner.user.id,
      channel: 'active' as const,
      visibility: 'public' as const,
    };
    expect(
      await writeMembershipCache(auth.redis, { ...base, member: false, role: null, version: 10 }),
    ).to.equal(true);
    expect(
      await writeMembershipCache(auth.redis, { ...base, member: true, role: 'owner', version: 9 }),
    ).to.equal(false);
    expect((await readMembershipCache(auth.redis, ch.body.id, owner.user.id))?.version).to.equal(10);
    expect(
      await writeMembershipCache(auth.redis, { ...base, member: true, role: 'owner', version: 11 }),
    ).to.equal(true);
  });
});
