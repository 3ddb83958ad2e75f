// Failure matrix 5: PostgreSQL (auth's store) unavailable for 30 s. Signed-in members keep chatting
// (tokens are verified locally against the cached JWKS, memberships come from the Redis cache); signing
// in fails cleanly with 503 and Retry-After, quickly, and works again once PostgreSQL is back. Sign-ins
// are tried every 3 s on a new connection each, as a new visitor would: through the auth Service and
// the way the chat page does (the message service's /auth proxy).
import { expect } from 'chai';
import { request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { User } from '@chatcluster/e2e';
import {
  ChatLoad,
  expectNothingLost,
  freshChannel,
  outageMs,
  report,
  type ChaosPlatform,
  type LoadFigures,
} from '../src/index.js';
import { useChaosPlatform } from './support/shared-platform.js';

interface SignIn {
  via: 'auth' | 'page';
  /** HTTP status, or the network error. */
  status: number | string;
  code?: string;
  retryAfter?: string;
  ms: number;
}

/** POSTs a sign-in on a new connection (no keep-alive reuse). */
function signIn(via: SignIn['via'], baseUrl: string, path: string, user: User): Promise<SignIn> {
  const started = Date.now();
  const body = JSON.stringify({ username: user.username, password: user.password });
  return new Promise((resolve) => {
    const req = request(
      new URL(path, baseUrl),
      {
        method: 'POST',
        agent: false,
        timeout: 20_000,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string } }).error
              ?.code;
          } catch {
            // not JSON
          }
          const retryAfter = res.headers['retry-after'];
          resolve({
            via,
            status: res.statusCode ?? 0,
            ...(code ? { code } : {}),
            ...(retryAfter ? { retryAfter } : {}),
            ms: Date.now() - started,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out after 20 s')));
    req.on('error', (err: Error & { code?: string }) =>
      resolve({ via, status: err.code ?? err.message, ms: Date.now() - started }),
    );
    req.end(body);
  });
}

describe('chaos 5: PostgreSQL unavailable for 30 s', function () {
  this.timeout(300_000);
  let platform: ChaosPlatform;
  let figures: LoadFigures;
  let outage: number;
  let members: User[];
  const during: SignIn[] = [];
  const afterwards: SignIn[] = [];

  const chaos = useChaosPlatform((p) => p.toxiproxy.enableProxy('postgres'));

  before(async function () {
    this.timeout(300_000);
    platform = chaos();
    members = platform.users.slice(0, 6);
    const prober = platform.users[6]!;
    const attempt = (via: SignIn['via']) =>
      via === 'auth'
        ? signIn(via, platform.authUrl, '/api/v1/auth/login', prober)
        : signIn(via, platform.messageUrl, '/auth/api/v1/auth/login', prober);
    const channelId = await freshChannel(platform, members);
    const load = await ChatLoad.start({ messageUrl: platform.messageUrl, channelId, members });
    try {
      await load.progress(30);
      outage = outageMs();
      await platform.toxiproxy.disableProxy('postgres');
      load.mark('faultStart');
      const end = Date.now() + outage;
      while (Date.now() < end - 3_000) {
        const tick = Date.now();
        during.push(await attempt('auth'), await attempt('page'));
        await delay(Math.max(0, tick + 3_000 - Date.now()));
      }
      await delay(Math.max(0, end - Date.now()));
    } finally {
      await platform.toxiproxy.enableProxy('postgres');
    }
    load.mark('faultEnd');
    const restoredAt = Date.now();
    for (;;) {
      const tried = await attempt('auth');
      afterwards.push(tried);
      if (tried.status === 200 || Date.now() - restoredAt > 60_000) break;
      await delay(1_000);
    }
    const signInRecoveredMs = Date.now() - restoredAt;
    await load.progress(20, 60_000);
    figures = await load.stop();
    report('5-postgres-unavailable', figures, {
      outageSeconds: outage / 1000,
      signInRecoveredMs,
      signInsDuring: during,
    });
  });

  it('signed-in chat continues: no stall, nothing lost or duplicated', () => {
    expectNothingLost(figures);
    expect(figures.acknowledgedDuringFault, 'sends acknowledged during the outage').to.be.greaterThan(
      (outage / 1000) * members.length * 0.5,
    );
    expect(figures.longestAckGapMs, 'no stall').to.be.below(5_000);
  });

  it('sign-in fails cleanly (quick 503 with an error code and Retry-After) and works again after', () => {
    expect(during.filter((s) => s.via === 'auth')).to.not.be.empty;
    expect(during.filter((s) => s.via === 'page')).to.not.be.empty;
    for (const tried of during) {
      const what = JSON.stringify(tried);
      expect(tried.status, what).to.equal(503);
      expect(tried.code, what).to.equal('DEPENDENCY_UNAVAILABLE');
      expect(Number(tried.retryAfter), what).to.be.at.least(1);
      expect(tried.ms, what).to.be.below(10_000);
    }
    expect(afterwards[afterwards.length - 1]!.status, 'sign-in works again').to.equal(200);
  });
});
