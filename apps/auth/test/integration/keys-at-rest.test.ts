// Private signing keys sealed at rest (migration 4, tokens/key-encryption.ts): nothing usable in the
// table, plaintext rows of an older release sealed at start, no start without the sealing KEK, and a
// KEK rotation through `migrate-cli rewrap-keys` while old and new KEK both read.
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { verifyAccessToken } from '@chatcluster/auth-client';
import { ConfigError } from '@chatcluster/kit';
import { runCommand } from '@chatcluster/harness';
import { expect } from 'chai';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import pg from 'pg';
import { startAuth } from '../../src/app.js';
import { Migrator } from '../../src/db/migrator.js';
import { migrations } from '../../src/db/migrations/index.js';
import { KeyEncryptionKeys } from '../../src/tokens/key-encryption.js';
import { Api, uniqueName } from './client.js';
import { AUDIENCE, ISSUER, TEST_KEK, bootAuth, sharedPostgres, type TestAuth } from './support.js';

const migrateCli = fileURLToPath(new URL('../../src/migrate-cli.js', import.meta.url));

interface KeyRow {
  kid: string;
  private_jwk: unknown;
  kek_id: string | null;
  wrapped_key: Buffer | null;
  sealed_private_key: Buffer | null;
  whole_row: string;
}

async function keyRows(url: string): Promise<KeyRow[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<KeyRow>(
      `SELECT kid, private_jwk, kek_id, wrapped_key, sealed_private_key, k::text AS whole_row
         FROM signing_keys k ORDER BY created_at`,
    );
    return res.rows;
  } finally {
    await client.end();
  }
}

/** The private scalar `d` of a sealed row, opened with the test's KEK. */
function privateScalar(row: KeyRow, keks: KeyEncryptionKeys): string {
  const jwk = keks.open(row.kid, {
    kekId: row.kek_id!,
    wrappedKey: row.wrapped_key!,
    sealedPrivateKey: row.sealed_private_key!,
  });
  return jwk.d!;
}

const newKek = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

async function startFails(auth: TestAuth, env: Record<string, string>): Promise<string> {
  try {
    const replica = await auth.replica(env);
    await replica.stop();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the replica started');
}

describe('auth: signing keys at rest', function () {
  const booted: TestAuth[] = [];
  const boot = async (...args: Parameters<typeof bootAuth>) => {
    const auth = await bootAuth(...args);
    booted.push(auth);
    return auth;
  };
  after(async () => {
    await Promise.all(booted.map((a) => a.stop()));
  });

  it('stores the private key sealed: no plaintext JWK and no private scalar in the row, and it signs', async () => {
    const auth = await boot('sealed');
    const [row, ...others] = await keyRows(auth.postgresUrl);
    expect(others).to.have.length(0);
    expect(row!.private_jwk).to.equal(null);
    expect(row!.kek_id).to.equal('test-kek');
    const d = privateScalar(row!, KeyEncryptionKeys.fromConfig(TEST_KEK, undefined));
    expect(d).to.have.length.greaterThan(20);
    expect(row!.whole_row).to.not.contain(d);

    const session = await new Api(auth.url).signup(uniqueName('sealed'));
    const claims = await verifyAccessToken(session.accessToken, auth.app.keys.getKey(), {
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    expect(claims.sub).to.equal(session.user.id);
  });

  it('seals the plaintext keys an older release stored, keeping kid and signatures valid', async () => {
    const url = await (await sharedPostgres()).newDatabase('keys_upgrade');
    await new Migrator({ url, migrations: migrations.filter((m) => m.version <= 3) }).up();
    // What the previous release wrote: a plaintext private JWK, and a token it signed.
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const kid = randomUUID();
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' };
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk) VALUES ($1, 'EdDSA', $2, $3)`,
        [kid, { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }, privateJwk],
      );
    } finally {
      await client.end();
    }
    const before = await new SignJWT({ name: 'old' })
      .setProtectedHeader({ alg: 'EdDSA', kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(randomUUID())
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(randomUUID())
      .sign(privateKey);

    const auth = await boot('keys_upgrade', { postgresUrl: url });
    const [row, ...others] = await keyRows(url);
    expect(others).to.have.length(0);
    expect(row).to.include({ kid, private_jwk: null, kek_id: 'test-kek' });
    expect(row!.whole_row).to.not.contain(privateJwk.d);
    expect(privateScalar(row!, KeyEncryptionKeys.fromConfig(TEST_KEK, undefined))).to.equal(privateJwk.d);
    expect(auth.app.keys.signingKey().kid).to.equal(kid);
    await verifyAccessToken(before, auth.app.keys.getKey(), { issuer: ISSUER, audience: AUDIENCE });
  });

  it('refuses to start without the key-encryption key that sealed the signing key', async () => {
    const auth = await boot('keys_missing_kek');
    expect(await startFails(auth, { KEY_ENCRYPTION_KEYS: '' })).to.match(
      /sealed under key-encryption key test-kek, and KEY_ENCRYPTION_KEYS is not set/,
    );
    expect(await startFails(auth, { KEY_ENCRYPTION_KEYS: newKek('other') })).to.match(
      /sealed under key-encryption key test-kek, which is not configured/,
    );
    expect(await startFails(auth, { KEY_ENCRYPTION_KEYS: newKek('test-kek') })).to.match(
      /test-kek does not unwrap its data key/,
    );
    // nothing was written in plaintext by the failed starts
    expect((await keyRows(auth.postgresUrl)).map((r) => r.kek_id)).to.deep.equal(['test-kek']);
  });

  it('rotates the key-encryption key: old and new read during the rotation, rewrap-keys moves every row', async () => {
    const oldKek = newKek('kek-2026-06');
    const nextKek = newKek('kek-2026-12');
    const auth = await boot('keys_kek_rotation', { env: { KEY_ENCRYPTION_KEYS: oldKek } });
    await auth.app.keys.rotate(0); // a retired-but-published key and a current one
    const kids = (await keyRows(auth.postgresUrl)).map((r) => r.kid);
    expect(kids).to.have.length(2);
    const current = auth.app.keys.signingKey().kid;

    // Step 1 of the runbook: both keys configured, the new one active. Old rows still open.
    const both = { KEY_ENCRYPTION_KEYS: `${nextKek},${oldKek}`, KEY_ENCRYPTION_KEY_ID: 'kek-2026-12' };
    const during = await auth.replica(both);
    booted.push(during);
    expect(during.app.keys.signingKey().kid).to.equal(current);

    // Step 2: rewrap every row under the new key.
    const cli = await runCommand(process.execPath, [migrateCli, 'rewrap-keys'], {
      env: { POSTGRES_URL: auth.postgresUrl, ...both },
    });
    expect(cli.code, cli.stderr).to.equal(0);
    const logged = JSON.parse(cli.stdout.trim().split('\n').pop()!) as { rewrapped: string[]; kekId: string };
    expect(logged.kekId).to.equal('kek-2026-12');
    expect([...logged.rewrapped].sort()).to.deep.equal([...kids].sort());
    expect((await keyRows(auth.postgresUrl)).map((r) => r.kek_id)).to.deep.equal([
      'kek-2026-12',
      'kek-2026-12',
    ]);
    await during.app.keys.reload();
    expect(during.app.keys.signingKey().kid).to.equal(current);

    // Step 3: the old key can go; without the new one nothing starts.
    const after = await auth.replica({ KEY_ENCRYPTION_KEYS: nextKek });
    booted.push(after);
    expect(after.app.keys.signingKey().kid).to.equal(current);
    expect(
      after.app.keys
        .jwks()
        .keys.map((k) => k.kid)
        .sort(),
    ).to.deep.equal([...kids].sort());
    expect(await startFails(auth, { KEY_ENCRYPTION_KEYS: oldKek })).to.match(
      /sealed under key-encryption key kek-2026-12, which is not configured/,
    );
  });

  it('refuses to start in production without the internal API token or the key-encryption keys', async () => {
    const base = {
      PORT: '0',
      LOG_LEVEL: 'silent',
      NODE_ENV: 'production',
      POSTGRES_URL: 'postgres://nobody@127.0.0.1:1/none',
      REDIS_URL: 'redis://127.0.0.1:1',
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
    };
    for (const [env, missing] of [
      [{ ...base, KEY_ENCRYPTION_KEYS: TEST_KEK }, 'INTERNAL_API_TOKEN'],
      [{ ...base, INTERNAL_API_TOKEN: 'a-token-of-sixteen-or-more' }, 'KEY_ENCRYPTION_KEYS'],
    ] as const) {
      let error: unknown;
      await startAuth({ env, host: '127.0.0.1', handleSignals: false }).catch((err: unknown) => {
        error = err;
      });
      expect(error).to.be.instanceOf(ConfigError);
      expect((error as Error).message).to.contain(`${missing}: required when NODE_ENV=production`);
    }
  });
});
