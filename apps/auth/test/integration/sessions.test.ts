import { expect } from 'chai';
import pg from 'pg';
import { PasswordHasher } from '../../src/passwords.js';
import { Api, uniqueName, type SessionBody } from './client.js';
import { bootAuth, type TestAuth } from './support.js';

describe('auth: session housekeeping', function () {
  let auth: TestAuth;
  let api: Api;
  let db: pg.Client;

  before(async () => {
    auth = await bootAuth('sessions');
    api = new Api(auth.url);
    db = new pg.Client({ connectionString: auth.postgresUrl });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await auth?.stop();
  });

  const hashOf = async (userId: string): Promise<string> =>
    (await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [userId]))
      .rows[0]!.password_hash;

  it('upgrades a password hash made with weaker parameters at the next login', async () => {
    const user = await api.signup(uniqueName('legacy'));
    expect(await hashOf(user.user.id)).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const weak = await new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }).hash(
      'correct horse battery',
    );
    await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [user.user.id, weak]);

    const login = await api.post<SessionBody>('/api/v1/auth/login', {
      username: user.user.username,
      password: 'correct horse battery',
    });
    expect(login.status).to.equal(200);
    const upgraded = await hashOf(user.user.id);
    expect(upgraded).to.match(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await new PasswordHasher().verify(upgraded, 'correct horse battery')).to.equal(true);
  });

  it('purges refresh tokens expired for longer than the grace period, and only those', async () => {
    const user = await api.signup(uniqueName('purge'));
    await db.query(
      `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at)
       VALUES (gen_random_uuid(), $1, '\\x01', now() - interval '2 days'),
              (gen_random_uuid(), $1, '\\x02', now() - interval '1 hour')`,
      [user.user.id],
    );
    expect(await auth.app.sessions.purgeExpired(86_400, 100)).to.equal(1);
    const left = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM refresh_tokens WHERE user_id = $1',
      [user.user.id],
    );
    expect(Number(left.rows[0]!.n), 'the sign-up token and the recently expired one').to.equal(2);
    // the session itself still refreshes
    expect((await api.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken })).status).to.equal(
      200,
    );
  });
});
