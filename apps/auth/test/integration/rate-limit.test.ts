import { expect } from 'chai';
import { Api, uniqueName, type ErrorBody } from './client.js';
import { bootAuth, type TestAuth } from './support.js';

describe('auth: login rate limits (Redis-backed, across replicas)', function () {
  let a: TestAuth;
  let b: TestAuth;

  before(async () => {
    const env = {
      LOGIN_ACCOUNT_LIMIT: '3',
      LOGIN_ACCOUNT_WINDOW_SECONDS: '60',
      LOGIN_IP_LIMIT: '8',
      LOGIN_IP_WINDOW_SECONDS: '60',
    };
    a = await bootAuth('ratelimit', { env });
    b = await a.replica();
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('limits attempts per account across replicas with 429 and Retry-After', async () => {
    const apiA = new Api(a.url);
    const apiB = new Api(b.url);
    const victim = await apiA.signup(uniqueName('victim'));
    const wrong = { username: victim.user.username, password: 'wrong password' };
    // three attempts spread over two replicas use up the account's burst...
    expect((await apiA.post('/api/v1/auth/login', wrong)).status).to.equal(401);
    expect((await apiB.post('/api/v1/auth/login', wrong)).status).to.equal(401);
    expect((await apiA.post('/api/v1/auth/login', wrong)).status).to.equal(401);
    // ...so the fourth is refused on either, even with the right password
    const limited = await apiB.post<ErrorBody>('/api/v1/auth/login', {
      username: victim.user.username,
      password: 'correct horse battery',
    });
    expect(limited.status).to.equal(429);
    expect(limited.body.error.code).to.equal('RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, 60);
    expect(limited.body.error.retryAfterSeconds).to.equal(retryAfter);
  });

  it('limits attempts per client IP whatever the account', async () => {
    const api = new Api(a.url);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      statuses.push(
        (await api.post('/api/v1/auth/login', { username: uniqueName('nobody'), password: 'x' })).status,
      );
    }
    // the earlier test spent 4 of this IP's 8 attempts: some of these pass, the rest are refused
    expect(statuses).to.include(401);
    expect(statuses[statuses.length - 1]).to.equal(429);
  });

  it('takes the client IP from X-Forwarded-For only behind as many proxies as configured', async () => {
    await a.redis.flushdb();
    const behindProxy = await a.replica({ TRUST_PROXY_HOPS: '1' });
    try {
      const attempt = (api: Api, ip: string) =>
        api.call('POST', '/api/v1/auth/login', {
          body: { username: uniqueName('nobody'), password: 'x' },
          headers: { 'x-forwarded-for': ip },
        });
      const proxied = new Api(behindProxy.url);
      // eight attempts (the IP limit) from one client use up that client's budget only
      for (let i = 0; i < 8; i += 1) expect((await attempt(proxied, '203.0.113.7')).status).to.equal(401);
      expect((await attempt(proxied, '203.0.113.7')).status).to.equal(429);
      expect((await attempt(proxied, '203.0.113.8')).status).to.equal(401);
      // without trusted proxies the header is ignored: a client cannot pick a fresh IP per attempt
      const direct = new Api(a.url);
      for (let i = 0; i < 8; i += 1) await attempt(direct, `198.51.100.${i}`);
      expect((await attempt(direct, '198.51.100.200')).status).to.equal(429);
    } finally {
      await behindProxy.stop();
    }
  });

  it('a successful login clears the account count', async () => {
    const api = new Api(a.url);
    const u = await api.signup(uniqueName('clear'));
    await a.redis.flushdb(); // this suite's own Redis database: a fresh IP budget
    expect(
      (await api.post('/api/v1/auth/login', { username: u.user.username, password: 'bad password' })).status,
    ).to.equal(401);
    expect(
      (await api.post('/api/v1/auth/login', { username: u.user.username, password: 'bad password' })).status,
    ).to.equal(401);
    expect(
      (await api.post('/api/v1/auth/login', { username: u.user.username, password: 'correct horse battery' }))
        .status,
    ).to.equal(200);
    // the count was cleared: three more attempts are allowed again
    for (let i = 0; i < 2; i += 1) {
      expect(
        (await api.post('/api/v1/auth/login', { username: u.user.username, password: 'bad password' }))
          .status,
      ).to.equal(401);
    }
  });
});
