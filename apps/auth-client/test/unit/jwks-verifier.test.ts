import { createMetrics, isAppError } from '@chatcluster/kit';
import { expect } from 'chai';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { KeysUnavailableError, type TokenRejectedError } from '../../src/errors.js';
import { JwksVerifier } from '../../src/jwks-verifier.js';
import { fakeFetch, hangingFetch } from '../support/fake-fetch.js';

const ISS = 'iss';
const AUD = 'aud';

interface Key {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(kid: string): Promise<Key> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' } };
}

function token(key: Key): Promise<string> {
  return new SignJWT({ name: 'bob' })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
    .setIssuer(ISS)
    .setAudience(AUD)
    .setSubject('user-1')
    .setIssuedAt()
    .setJti('j')
    .setExpirationTime('10m')
    .sign(key.privateKey);
}

/** A fake JWKS endpoint: serves `keys`, or fails while `down` is set, and counts calls. */
class FakeAuth {
  keys: JWK[] = [];
  down = false;
  calls = 0;
  readonly fetch = fakeFetch(() => {
    this.calls += 1;
    if (this.down) throw new TypeError('fetch failed: ECONNREFUSED');
    return new Response(JSON.stringify({ keys: this.keys }), {
      headers: { 'content-type': 'application/json' },
    });
  });
}

describe('JwksVerifier (what other services verify tokens with)', () => {
  let clock = 1_000_000;
  const now = (): number => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  function verifier(auth: FakeAuth): JwksVerifier {
    return new JwksVerifier({
      jwksUrl: 'http://auth.invalid/.well-known/jwks.json',
      issuer: ISS,
      audience: AUD,
      fetch: auth.fetch,
      now,
      refreshAfterMs: 60_000,
      maxStaleMs: 3_600_000,
      unknownKeyCooldownMs: 5_000,
    });
  }

  it('fetches the keys once and verifies from memory afterwards', async () => {
    const auth = new FakeAuth();
    const k1 = await newKey('k1');
    auth.keys = [k1.jwk];
    const v = verifier(auth);
    const t = await token(k1);
    expect((await v.verify(t)).sub).to.equal('user-1');
    expect((await v.verify(t)).sub).to.equal('user-1');
    expect(auth.calls).to.equal(1);
  });

  it('reports the age of its keys (null before the first fetch)', async () => {
    const auth = new FakeAuth();
    auth.keys = [(await newKey('k1')).jwk];
    const v = verifier(auth);
    expect(v.cacheAgeMs()).to.equal(null);
    expect(await v.warm()).to.equal(true);
    clock += 1_234;
    expect(v.cacheAgeMs()).to.equal(1_234);
  });

  it('keeps verifying from the stale cache while auth is down', async () => {
    const auth = new FakeAuth();
    const k1 = await newKey('k1');
    auth.keys = [k1.jwk];
    const v = verifier(auth);
    await v.verify(await token(k1));
    auth.down = true;
    clock += 30 * 60_000; // past refreshAfter, within maxStale
    expect((await v.verify(await token(k1))).sub).to.equal('user-1');
  });

  it('answers 503 DEPENDENCY_UNAVAILABLE with Retry-After, not a rejection, when there are no keys at all', async () => {
    const auth = new FakeAuth();
    auth.down = true;
    const k1 = await newKey('k1');
    try {
      await verifier(auth).verify(await token(k1));
      expect.fail('verified without keys');
    } catch (err) {
      expect(err).to.be.instanceOf(KeysUnavailableError);
      expect(err).to.include({ code: 'DEPENDENCY_UNAVAILABLE', status: 503 });
      expect((err as KeysUnavailableError).retryAfterSeconds).to.be.at.least(1);
    }
  });

  it('gives up on keys older than maxStale when auth stays down', async () => {
    const auth = new FakeAuth();
    const k1 = await newKey('k1');
    auth.keys = [k1.jwk];
    const v = verifier(auth);
    await v.verify(await token(k1));
    auth.down = true;
    clock += 2 * 3_600_000;
    try {
      await v.verify(await token(k1));
      expect.fail('verified with expired cache');
    } catch (err) {
      expect(err).to.be.instanceOf(KeysUnavailableError);
    }
  });

  it('fetches again for a token naming a new key (rotation), at most once per cooldown', async () => {
    const auth = new FakeAuth();
    const k1 = await newKey('k1');
    const k2 = await newKey('k2');
    auth.keys = [k1.jwk];
    const v = verifier(auth);
    await v.verify(await token(k1));
    expect(auth.calls).to.equal(1);

    const forged = await newKey('unknown');
    for (let i = 0; i < 5; i += 1) {
      try {
        await v.verify(await token(forged));
        expect.fail('accepted unknown key');
      } catch (err) {
        expect((err as TokenRejectedError).reason).to.equal('unknown_key');
      }
    }
    expect(auth.calls).to.equal(2); // one fetch for five unknown-key tokens

    auth.keys = [k2.jwk, k1.jwk];
    clock += 5_000;
    expect((await v.verify(await token(k2))).sub).to.equal('user-1');
    expect((await v.verify(await token(k1))).sub).to.equal('user-1');
    expect(auth.calls).to.equal(3);
  });

  it('stops calling a failing auth once the kit breaker opens, and says for how long', async () => {
    const auth = new FakeAuth();
    auth.down = true;
    const metrics = createMetrics('chat_clienttest');
    const v = new JwksVerifier({
      jwksUrl: 'http://auth.invalid/jwks',
      issuer: ISS,
      audience: AUD,
      fetch: auth.fetch,
      metrics,
      breaker: { consecutiveFailures: 2, resetTimeout: 30_000 },
    });
    const t = await token(await newKey('k1'));
    try {
      for (let i = 0; i < 2; i += 1) await v.verify(t).catch(() => undefined);
      expect(auth.calls).to.equal(2);
      const err = await v.verify(t).catch((e: unknown) => e);
      expect(auth.calls, 'no fetch while the circuit is open').to.equal(2);
      expect(err).to.be.instanceOf(KeysUnavailableError);
      expect(isAppError((err as Error).cause, 'CIRCUIT_OPEN')).to.equal(true);
      expect((err as KeysUnavailableError).retryAfterSeconds).to.be.within(25, 30);
      const state = await metrics.registry.getSingleMetric('chat_clienttest_circuit_breaker_state')!.get();
      expect(state.values.find((x) => x.labels['breaker'] === 'auth-jwks')?.value).to.equal(2);
    } finally {
      v.close();
    }
  });

  it('gives up on a JWKS fetch that hangs after fetchTimeoutMs', async () => {
    const v = new JwksVerifier({
      jwksUrl: 'http://auth.invalid/jwks',
      issuer: ISS,
      audience: AUD,
      fetch: hangingFetch,
      fetchTimeoutMs: 50,
    });
    const started = Date.now();
    expect(await v.warm()).to.equal(false);
    expect(Date.now() - started).to.be.below(1_000);
    v.close();
  });
});
