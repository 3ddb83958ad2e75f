import { expect } from 'chai';
import { Api, uniqueName, type ErrorBody, type SessionBody } from './client.js';
import { INTERNAL_TOKEN, bootAuth, type TestAuth } from './support.js';

const INJECTIONS = [
  "' OR '1'='1",
  "admin'--",
  "'; DROP TABLE users; --",
  '1; SELECT pg_sleep(10)',
  "\\'; TRUNCATE channels CASCADE; --",
];

describe('auth: hostile and oversize input', function () {
  let auth: TestAuth;
  let api: Api;
  let user: SessionBody;

  before(async () => {
    auth = await bootAuth('input');
    api = new Api(auth.url);
    user = await api.signup(uniqueName('target'));
  });
  after(async () => {
    await auth?.stop();
  });

  function expectStructured(res: { status: number; body: unknown }, status: number): void {
    expect(res.status).to.equal(status);
    const body = res.body as ErrorBody;
    expect(body.error.code).to.be.a('string');
    expect(body.error.message).to.be.a('string');
    expect(body.error.requestId).to.be.a('string');
  }

  it('answers SQL injection in credentials with clean 4xx, and the data survives', async () => {
    for (const evil of INJECTIONS) {
      const login = await api.post('/api/v1/auth/login', { username: evil, password: evil });
      expect([400, 401]).to.include(login.status);
      expectStructured(login, login.status);
      const signup = await api.post('/api/v1/auth/signup', {
        username: evil,
        email: 'x@example.test',
        password: evil,
      });
      expectStructured(signup, 400);
    }
    // the real account still logs in
    const ok = await api.post('/api/v1/auth/login', {
      username: user.user.username,
      password: 'correct horse battery',
    });
    expect(ok.status).to.equal(200);
  });

  it('stores injection-looking channel names as plain text', async () => {
    const name = "'; DROP TABLE channels; --";
    const created = await api.post<{ id: string; name: string }>(
      '/api/v1/channels',
      { name },
      user.accessToken,
    );
    expect(created.status).to.equal(201);
    const read = await api.get<{ name: string }>(`/api/v1/channels/${created.body.id}`, user.accessToken);
    expect(read.body.name).to.equal(name);
  });

  it('answers injection in path and query parameters with 400', async () => {
    for (const evil of INJECTIONS) {
      const path = encodeURIComponent(evil);
      expectStructured(await api.get(`/api/v1/channels/${path}`, user.accessToken), 400);
      expectStructured(
        await api.get(`/internal/v1/channels/${path}/members/${user.user.id}`, INTERNAL_TOKEN),
        400,
      );
      expectStructured(await api.get(`/api/v1/channels?cursor=${path}`, user.accessToken), 400);
      expectStructured(await api.get(`/api/v1/channels?limit=${path}`, user.accessToken), 400);
    }
  });

  it('refuses oversize fields with 400 and oversize bodies with 413', async () => {
    const long = 'a'.repeat(10_000);
    expectStructured(
      await api.post('/api/v1/auth/signup', { username: long, email: 'a@b.test', password: 'xxxxxxxx' }),
      400,
    );
    expectStructured(
      await api.post('/api/v1/auth/signup', { username: uniqueName('x'), email: 'a@b.test', password: long }),
      400,
    );
    expectStructured(await api.post('/api/v1/auth/login', { username: 'a', password: long }), 400);
    expectStructured(await api.post('/api/v1/channels', { name: long }, user.accessToken), 400);
    expectStructured(
      await api.post('/api/v1/channels', { name: 'ok', description: long.repeat(2) }, user.accessToken),
      400,
    );
    expectStructured(await api.post('/api/v1/auth/refresh', { refreshToken: long }), 400);
    expectStructured(await api.get('/api/v1/channels?limit=100000', user.accessToken), 400);
    // beyond BODY_LIMIT (100kb)
    const huge = await api.post(
      '/api/v1/channels',
      { name: 'x', description: 'y'.repeat(200_000) },
      user.accessToken,
    );
    expectStructured(huge, 413);
  });

  it('refuses malformed JSON, wrong types and control characters with 400', async () => {
    expectStructured(await api.call('POST', '/api/v1/auth/login', { rawBody: '{"username": ' }), 400);
    expectStructured(await api.post('/api/v1/auth/login', { username: ['a'], password: { $ne: null } }), 400);
    expectStructured(await api.post('/api/v1/channels', { name: 'bell\u0007' }, user.accessToken), 400);
    expectStructured(
      await api.post('/api/v1/channels', { name: 'x', visibility: 'secret' }, user.accessToken),
      400,
    );
    expectStructured(
      await api.post('/api/v1/auth/signup', {
        username: uniqueName('y'),
        email: 'not-an-email',
        password: 'xxxxxxxx',
      }),
      400,
    );
  });

  it('answers unknown routes with a structured 404', async () => {
    expectStructured(await api.get('/api/v1/nope', user.accessToken), 404);
  });
});
