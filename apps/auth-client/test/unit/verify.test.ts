import { expect } from 'chai';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  SignJWT,
  UnsecuredJWT,
  type CryptoKey,
  type JSONWebKeySet,
} from 'jose';
import { TokenRejectedError } from '../../src/errors.js';
import { bearerToken, verifyAccessToken } from '../../src/verify.js';

const ISS = 'https://auth.test';
const AUD = 'chatcluster-test';

async function keyPair(kid: string): Promise<{ privateKey: CryptoKey; jwks: JSONWebKeySet }> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { privateKey, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }] } };
}

function sign(
  key: CryptoKey,
  kid: string,
  claims: { iss?: string; aud?: string; exp?: number; sub?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ name: 'alice' })
    .setProtectedHeader({ alg: 'EdDSA', kid })
    .setIssuer(claims.iss ?? ISS)
    .setAudience(claims.aud ?? AUD)
    .setSubject(claims.sub ?? '7b0e7d52-4f0e-4a8e-9d1e-0c1f6f5c2a11')
    .setIssuedAt(now - 10)
    .setExpirationTime(claims.exp ?? now + 900)
    .setJti('j1')
    .sign(key);
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(TokenRejectedError);
    // reaches HTTP as the kit's 401, whatever the reason
    expect(err).to.include({ code: 'UNAUTHENTICATED', status: 401 });
    return (err as TokenRejectedError).reason;
  }
  throw new Error('token was accepted');
}

describe('access token verification', () => {
  it('accepts a token signed by a published key and returns its claims', async () => {
    const { privateKey, jwks } = await keyPair('k1');
    const claims = await verifyAccessToken(await sign(privateKey, 'k1'), createLocalJWKSet(jwks), {
      issuer: ISS,
      audience: AUD,
    });
    expect(claims.sub).to.equal('7b0e7d52-4f0e-4a8e-9d1e-0c1f6f5c2a11');
    expect(claims.name).to.equal('alice');
    expect(claims.jti).to.equal('j1');
  });

  it('rejects alg none', async () => {
    const { jwks } = await keyPair('k1');
    const unsigned = new UnsecuredJWT({ sub: 'u', jti: 'x' })
      .setIssuer(ISS)
      .setAudience(AUD)
      .setIssuedAt()
      .setExpirationTime('10m')
      .encode();
    expect(
      await rejection(verifyAccessToken(unsigned, createLocalJWKSet(jwks), { issuer: ISS, audience: AUD })),
    ).to.equal('algorithm');
  });

  it('rejects an HMAC token made with the public key as secret (algorithm confusion)', async () => {
    const { jwks } = await keyPair('k1');
    const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(ISS)
      .setAudience(AUD)
      .setSubject('u')
      .setIssuedAt()
      .setJti('x')
      .setExpirationTime('10m')
      .sign(secret);
    expect(
      await rejection(verifyAccessToken(forged, createLocalJWKSet(jwks), { issuer: ISS, audience: AUD })),
    ).to.equal('algorithm');
  });

  it('rejects a token signed by another key under a published kid', async () => {
    const { jwks } = await keyPair('k1');
    const other = await keyPair('k1');
    const token = await sign(other.privateKey, 'k1');
    expect(
      await rejection(verifyAccessToken(token, createLocalJWKSet(jwks), { issuer: ISS, audience: AUD })),
    ).to.equal('signature');
  });

  it('rejects a token naming an unknown key', async () => {
    const { jwks } = await keyPair('k1');
    const other = await keyPair('k2');
    const token = await sign(other.privateKey, 'k2');
    expect(
      await rejection(verifyAccessToken(token, createLocalJWKSet(jwks), { issuer: ISS, audience: AUD })),
    ).to.equal('unknown_key');
  });

  it('rejects wrong audience, wrong issuer and expiry', async () => {
    const { privateKey, jwks } = await keyPair('k1');
    const getKey = createLocalJWKSet(jwks);
    const opts = { issuer: ISS, audience: AUD };
    expect(
      await rejection(verifyAccessToken(await sign(privateKey, 'k1', { aud: 'other' }), getKey, opts)),
    ).to.equal('audience');
    expect(
      await rejection(verifyAccessToken(await sign(privateKey, 'k1', { iss: 'evil' }), getKey, opts)),
    ).to.equal('issuer');
    const past = Math.floor(Date.now() / 1000) - 60;
    expect(
      await rejection(verifyAccessToken(await sign(privateKey, 'k1', { exp: past }), getKey, opts)),
    ).to.equal('expired');
  });

  it('rejects garbage and oversize tokens as malformed', async () => {
    const { jwks } = await keyPair('k1');
    const getKey = createLocalJWKSet(jwks);
    const opts = { issuer: ISS, audience: AUD };
    expect(await rejection(verifyAccessToken('not.a.jwt', getKey, opts))).to.equal('malformed');
    expect(await rejection(verifyAccessToken('x'.repeat(9000), getKey, opts))).to.equal('malformed');
  });

  it('reads bearer tokens from the Authorization header', () => {
    expect(bearerToken('Bearer abc.def.ghi')).to.equal('abc.def.ghi');
    expect(bearerToken('bearer  abc')).to.equal('abc');
    expect(bearerToken('Basic abc')).to.equal(null);
    expect(bearerToken(undefined)).to.equal(null);
    expect(bearerToken('Bearer a b')).to.equal(null);
  });
});
