// The connection registry's writes: the users connected in one turn are recorded in one write,
// and a user who left before being recorded is never recorded.
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import type { RedisGuard } from '../../src/bus/redis-guard.js';
import { Presence } from '../../src/presence.js';

describe('message: presence registry writes', () => {
  /** The keys of each batch written (one script call per batch). */
  let pipelines: string[][];
  let deletes: string[];
  const redis = {
    eval: (script: string, n: number, ...args: (string | number)[]) => {
      const keys = args.slice(0, n) as string[];
      if (script.includes("'SET'")) pipelines.push(keys);
      else deletes.push(keys[0]!);
      return Promise.resolve(1);
    },
  } as unknown as Redis;
  const guard = { run: (_op: string, fn: () => Promise<unknown>) => fn() } as unknown as RedisGuard;
  const turn = () => new Promise((r) => setImmediate(r));

  beforeEach(() => {
    pipelines = [];
    deletes = [];
  });

  it('records a burst of connections in one write, once per user', async () => {
    const presence = new Presence(redis, guard, 'message-1', 90, pino({ level: 'silent' }));
    for (let i = 0; i < 300; i++) presence.connected(`u${i % 200}`);
    await turn();
    await turn();
    expect(pipelines).to.have.length(1);
    expect(pipelines[0]).to.have.length(200);
  });

  it('never records a user who left in the same turn, and deletes those recorded', async () => {
    const presence = new Presence(redis, guard, 'message-1', 90, pino({ level: 'silent' }));
    presence.connected('gone');
    presence.connected('stays');
    presence.disconnected('gone');
    await turn();
    await turn();
    expect(pipelines).to.deep.equal([['chat:presence:stays']]);
    expect(deletes).to.deep.equal([]);
    presence.disconnected('stays');
    expect(deletes).to.deep.equal(['chat:presence:stays']);
  });
});
