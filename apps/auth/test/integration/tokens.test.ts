import { JwksVerifier, TokenRejectedError } from '@chatcluster/auth-client';
import { expect } from 'chai';
import { decodeJwt, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { Api, uniqueName, type ErrorBody, type SessionBody } from './client.js';
import { bootAuth, type TestAuth } from './support.js';

function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as {
    kid: string;
  };
  return header.kid;
}

describe('auth: tokens', function () {
  let auth: TestAuth;
  let api: Api;

  before(async () => {
    // Short lifetimes so expiry and key retirement happen within the test.
    auth = await bootAuth('tokens', {
      env: { ACCESS_TOKEN_TTL_SECONDS: '5', SIGNING_KEY_RELOAD_MS: '500', JWT_CLOCK_SKEW_SECONDS: '1' },
    });
    api = new Api(auth.url);
  });
  after(async () => {
    await auth?.stop();
  });

  it('revokes the whole family when a rotated refresh token is used again', async () => {
    const s0 = await api.signup(uniqueName('reuse'));
    const s1 = (await api.post<SessionBody>('/api/v1/auth/refresh', { refreshToken: s0.refreshToken })).body;
    const s2 = (await api.post<SessionBody>('/api/v1/auth/refresh', { refreshToken: s1.refreshToken })).body;
    expect(s2.refreshToken).to.match(/^ccrt_/);

    // s0's token was rotated long ago: presenting it again is reuse
    const reuse = await api.post<ErrorBody>('/api/v1/auth/refresh', { refreshToken: s0.refreshToken });
    expect(reuse.status).to.equal(401);
    expect(reuse.body.error.code).to.equal('AUTH_REFRESH_TOKEN_REUSED');
    expect(reuse.body.error.requestId).to.be.a('string');

    // ... and the newest token of the family, held by the legitimate user, is revoked too
    const latest = await api.post<ErrorBody>('/api/v1/auth/refresh', { refreshToken: s2.refreshToken });
    expect(latest.status).to.equal(401);

    // another session of the same user (another family) is untouched
    const other = await api.post<SessionBody>('/api/v1/auth/login', {
      username: s0.user.username,
      password: 'correct horse battery',
    });
    expect(other.status).to.equal(200);
    expect(
      (await api.post('/api/v1/auth/refresh', { refreshToken: other.body.refreshToken })).status,
    ).to.equal(200);
  });

  it('lets only one of two concurrent refreshes with the same token win', async () => {
    const s = await api.signup(uniqueName('race'));
    const [a, b] = await Promise.all([
      api.post('/api/v1/auth/refresh', { refreshToken: s.refreshToken }),
      api.post('/api/v1/auth/refresh', { refreshToken: s.refreshToken }),
    ]);
    expect([a.status, b.status].sort()).to.deep.equal([200, 401]);
  });

  it('rejects unknown, malformed and expired refresh tokens with 401', async () => {
    for (const refreshToken of ['ccrt_' + 'A'.repeat(43), 'garbage', "' OR 1=1 --"]) {
      const res = await api.post<ErrorBody>('/api/v1/auth/refresh', { refreshToken });
      expect(res.status, refreshToken).to.equal(401);
      expect(res.body.error.code).to.equal('AUTH_INVALID_REFRESH_TOKEN');
    }
  });

  describe('access tokens that must be rejected', () => {
    let user: SessionBody;
    before(async () => {
      user = await api.signup(uniqueName('victim'));
    });

    async function expect401(token: string): Promise<void> {
      const res = await api.get<ErrorBody>('/api/v1/me', token);
      expect(res.status).to.equal(401);
      expect(res.body.error.code).to.equal('UNAUTHENTICATED');
    }

    it('alg none', async () => {
      const token = new UnsecuredJWT({ name: 'x' })
        .setIssuer(auth.issuer)
        .setAudience(auth.audience)
        .setSubject(user.user.id)
        .setIssuedAt()
        .setJti('j')
        .setExpirationTime('10m')
        .encode();
      await expect401(token);
    });

    it('signed by a key that is not published, even under a published kid', async () => {
      const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const token = await new SignJWT({ name: 'x' })
        .setProtectedHeader({ alg: 'EdDSA', kid: kidOf(user.accessToken) })
        .setIssuer(auth.issuer)
        .setAudience(auth.audience)
        .setSubject(user.user.id)
        .setIssuedAt()
        .setJti('j')
        .setExpirationTime('10m')
        .sign(privateKey);
      await expect401(token);
    });

    it('for another audience or from another issuer', async () => {
      await expect401(await auth.sign({ sub: user.user.id, aud: 'some-other-api' }));
      await expect401(await auth.sign({ sub: user.user.id, iss: 'https://evil.example' }));
      // the control: the same helper with the right claims is accepted
      expect((await api.get('/api/v1/me', await auth.sign({ sub: user.user.id }))).status).to.equal(200);
    });

    it('expired', async () => {
      await expect401(await auth.sign({ sub: user.user.id, exp: Math.floor(Date.now() / 1000) - 30 }));
      // and a real one, once its (test-short) lifetime is over
      const fresh = await api.post<SessionBody>('/api/v1/auth/login', {
        username: user.user.username,
        password: 'correct horse battery',
      });
      expect((await api.get('/api/v1/me', fresh.body.accessToken)).status).to.equal(200);
      await new Promise((r) => setTimeout(r, (5 + 5 + 1) * 1000)); // ttl + verifier clock tolerance
      await expect401(fresh.body.accessToken);
    });

    it('missing, not Bearer, or garbage', async () => {
      expect((await api.get('/api/v1/me')).status).to.equal(401);
      expect(
        (await api.call('GET', '/api/v1/me', { headers: { authorization: 'Basic YTpi' } })).status,
      ).to.equal(401);
      await expect401('a.b.c');
    });
  });

  it('rotates keys without downtime: old tokens verify until they expire, then the old key is unpublished', async () => {
    const s = await api.signup(uniqueName('rotate'));
    const oldKid = kidOf(s.accessToken);
    const verifier = new JwksVerifier({
      jwksUrl: `${auth.url}/.well-known/jwks.json`,
      issuer: auth.issuer,
      audience: auth.audience,
      unknownKeyCooldownMs: 0,
    });
    await verifier.verify(s.accessToken);

    const newKid = await auth.app.keys.rotate(0);
    expect(newKid).to.not.equal(oldKid);
    const jwks = await api.get<{ keys: { kid: string }[] }>('/.well-known/jwks.json');
    expect(jwks.body.keys.map((k) => k.kid)).to.include.members([oldKid, newKid]);

    // the token signed by the old key still works, at auth and at a remote verifier
    expect((await api.get('/api/v1/me', s.accessToken)).status).to.equal(200);
    expect((await verifier.verify(s.accessToken)).sub).to.equal(s.user.id);

    // new tokens are signed by the new key, and the remote verifier picks it up by itself
    const next = (await api.post<SessionBody>('/api/v1/auth/refresh', { refreshToken: s.refreshToken })).body;
    expect(kidOf(next.accessToken)).to.equal(newKid);
    expect((await verifier.verify(next.accessToken)).sub).to.equal(s.user.id);

    // after ttl (5 s) + reload lag (1 s) + skew (1 s) the old key leaves the JWKS
    await new Promise((r) => setTimeout(r, 8_500));
    const later = await api.get<{ keys: { kid: string }[] }>('/.well-known/jwks.json');
    expect(later.body.keys.map((k) => k.kid)).to.deep.equal([newKid]);
    // the verifier still holds the old key (its JWKS cache is minutes long): the token ends by expiring
    const { exp } = decodeJwt(s.accessToken);
    await new Promise((r) => setTimeout(r, Math.max(0, (exp! + 5 + 1) * 1000 - Date.now()))); // + clock tolerance
    const expired = await verifier.verify(s.accessToken).catch((err: unknown) => err);
    expect(expired).to.be.instanceOf(TokenRejectedError);
    expect((expired as TokenRejectedError).reason).to.equal('expired');
  });

  it('shares keys across replicas: a second instance verifies the first one’s tokens and publishes the same JWKS', async () => {
    const second = await auth.replica();
    try {
      const s = await api.signup(uniqueName('replica'));
      const api2 = new Api(second.url);
      expect((await api2.get('/api/v1/me', s.accessToken)).status).to.equal(200);
      const a = await api.get<{ keys: { kid: string }[] }>('/.well-known/jwks.json');
      const b = await api2.get<{ keys: { kid: string }[] }>('/.well-known/jwks.json');
      expect(b.body.keys.map((k) => k.kid).sort()).to.deep.equal(a.body.keys.map((k) => k.kid).sort());
    } finally {
      await second.stop();
    }
  });
});
