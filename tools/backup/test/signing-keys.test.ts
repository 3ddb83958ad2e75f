// The auth service's signing keys in a backup: sealed under the key-encryption key (KEK), so the dump
// holds no private key and a restore without the KEK cannot sign; with the KEK provided (the extra
// step of docs/runbooks/backup-restore.md) the restored service signs with the same keys. The auth
// service runs as its real process (apps/auth/dist/src/main.js) against real PostgreSQL and Redis.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ManagedProcess,
  createTempDir,
  freePort,
  removeTempDir,
  runCommand,
  startPostgres,
  startRedis,
  type PostgresServer,
  type RedisServer,
} from '@chatcluster/harness';
import { expect } from 'chai';
import { run } from '../src/exec.js';
import { backup, restore } from '../src/operations.js';

const authMain = fileURLToPath(new URL('../../../../apps/auth/dist/src/main.js', import.meta.url));
const KEK = `backup-test:${randomBytes(32).toString('base64')}`;
const INTERNAL_TOKEN = 'backup-test-internal-token-0123';

const authEnv = (postgresUrl: string, redisUrl: string): Record<string, string> => ({
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  POSTGRES_URL: postgresUrl,
  REDIS_URL: redisUrl,
  JWT_ISSUER: 'https://auth.backup.test',
  JWT_AUDIENCE: 'backup-test',
  INTERNAL_API_TOKEN: INTERNAL_TOKEN,
  KEY_ENCRYPTION_KEYS: KEK,
});

async function post<T>(url: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const kidOf = (jwt: string): string =>
  (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

describe('backup and restore of the signing keys (real auth process, PostgreSQL, Redis)', function () {
  this.timeout(180_000);
  let source: PostgresServer;
  let restored: PostgresServer;
  let redis: RedisServer;
  let logDir: string;
  let backupDir: string;
  const running: ManagedProcess[] = [];

  async function startAuthProcess(env: Record<string, string>): Promise<string> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    running.push(
      await ManagedProcess.start({
        name: 'auth',
        command: process.execPath,
        args: [authMain],
        logFile: join(logDir, `auth-${port}.log`),
        env: { ...env, PORT: String(port) },
        ready: async () => (await fetch(`${url}/health/readiness`)).ok,
        readyTimeoutMs: 30_000,
      }),
    );
    return url;
  }

  /** Starting with `env` fails: the exit code and what the process said. */
  async function startRefused(env: Record<string, string>): Promise<string> {
    const result = await runCommand(process.execPath, [authMain], {
      env: { ...env, PORT: String(await freePort()) },
      timeoutMs: 30_000,
    });
    expect(result.code, result.stdout).to.equal(1);
    return result.stderr + result.stdout;
  }

  before(async () => {
    [source, restored, redis] = await Promise.all([
      startPostgres(),
      startPostgres({ database: 'restored' }),
      startRedis(),
    ]);
    logDir = createTempDir('backup-keys-logs');
    backupDir = join(createTempDir('backup-keys'), 'backup');
  });

  after(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await Promise.all([source?.stop(), restored?.stop(), redis?.stop()]);
    await removeTempDir(logDir);
    await removeTempDir(join(backupDir, '..'));
  });

  it('a restored dump without the KEK cannot sign; with the KEK it signs with the same keys', async () => {
    // The live service seals its key; a user signs up and holds a token.
    const live = await startAuthProcess(authEnv(source.url, `${redis.url}/1`));
    const credentials = {
      username: 'restore_me',
      email: 'restore_me@example.test',
      password: 'a long password 1',
    };
    const signup = await post<{ accessToken: string }>(`${live}/api/v1/auth/signup`, {
      ...credentials,
      displayName: 'Restore Me',
    });
    expect(signup.status).to.equal(201);
    const kid = kidOf(signup.body.accessToken);
    await running.pop()!.stop();

    await backup({ postgresUrl: source.url }, backupDir);

    // The dump holds the key row, but no private key: no plaintext JWK, only sealed bytes.
    const rows = await run('pg_restore', [
      '--data-only',
      '--table=signing_keys',
      '--file=-',
      join(backupDir, 'postgres.dump'),
    ]);
    const keyRow = rows.split('\n').find((line) => line.startsWith(kid));
    expect(keyRow, 'the signing key row is in the dump').to.not.equal(undefined);
    expect(keyRow).to.not.match(/"d"\s*:/);
    expect(keyRow).to.contain('\tbackup-test\t');

    await restore(backupDir, { postgresUrl: restored.url });
    const restoredEnv = authEnv(restored.url, `${redis.url}/2`);

    // Without the KEK Secret: production refuses to start, and so does a development start, which
    // finds a key it cannot open; a KEK of the same id but other bytes does not open it either.
    const withoutKek = { ...restoredEnv, KEY_ENCRYPTION_KEYS: '' };
    expect(await startRefused(withoutKek)).to.contain(
      'KEY_ENCRYPTION_KEYS: required when NODE_ENV=production',
    );
    expect(await startRefused({ ...withoutKek, NODE_ENV: 'development' })).to.contain(
      `signing key ${kid} is sealed under key-encryption key backup-test, and KEY_ENCRYPTION_KEYS is not set`,
    );
    expect(
      await startRefused({
        ...restoredEnv,
        KEY_ENCRYPTION_KEYS: `backup-test:${randomBytes(32).toString('base64')}`,
      }),
    ).to.contain('backup-test does not unwrap its data key');

    // With the KEK Secret provided: the restored service signs with the key it had, and accepts
    // the token issued before the backup.
    const back = await startAuthProcess(restoredEnv);
    const login = await post<{ accessToken: string }>(`${back}/api/v1/auth/login`, {
      username: credentials.username,
      password: credentials.password,
    });
    expect(login.status).to.equal(200);
    expect(kidOf(login.body.accessToken)).to.equal(kid);
    for (const token of [signup.body.accessToken, login.body.accessToken]) {
      const me = await fetch(`${back}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).to.equal(200);
    }
  });
});
