// The message lock on FerretDB (whose updates are not atomic, so edits and deletes of one message
// are serialised by it): a holder that outlives its lease and releases late must not free the lock
// of the holder that took it over.
import { expect } from 'chai';
import mongoose, { type Connection } from 'mongoose';
import { startFerretDB, type FerretDBServer } from '@chatcluster/harness';
import { createStoreGuard } from '../../src/store/guard.js';
import {
  ensureLockIndex,
  LOCKS_COLLECTION,
  MessageLocks,
  type LeaseDoc,
} from '../../src/store/message-lock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('message: the message lock', function () {
  let ferret: FerretDBServer;
  let connection: Connection;

  before(async () => {
    ferret = await startFerretDB();
    connection = await mongoose.createConnection(`${ferret.url}locks`).asPromise();
    await ensureLockIndex(connection.collection<LeaseDoc>(LOCKS_COLLECTION));
  });
  after(async () => {
    await connection?.close();
    await ferret?.stop();
  });

  /** One instance's locks (each has its own in-process queue, as separate processes do). */
  const instance = (leaseMs: number) =>
    new MessageLocks(
      connection.collection<LeaseDoc>(LOCKS_COLLECTION),
      createStoreGuard({ name: `locks-${leaseMs}`, timeoutMs: 5_000, resetMs: 1_000 }),
      { leaseMs, waitMs: 10_000 },
    );

  it('a lock held past its lease and released late does not free the next holder’s lock', async () => {
    const slow = instance(300);
    const next = instance(10_000);
    const third = instance(10_000);
    const key = `late-release-${Date.now()}`;
    const inside = new Set<string>();
    const overlaps: string[] = [];
    const critical = (who: string, ms: number) => async () => {
      if (inside.size > 0) overlaps.push(`${who} entered while ${[...inside].join(',')} held it`);
      inside.add(who);
      await sleep(ms);
      inside.delete(who);
    };
    // The slow holder keeps the lock 900 ms on a 300 ms lease: the next holder breaks the expired
    // lease and holds the lock for 1.5 s; the slow one releases (late) in the middle of that.
    const first = slow.with(key, async () => {
      await sleep(900);
    });
    await sleep(50);
    const second = next.with(key, critical('next', 1_500));
    await first;
    await sleep(100);
    // The third asks after the late release, while `next` still holds the lock: it must wait.
    const thirdDone = third.with(key, critical('third', 10));
    await Promise.all([second, thirdDone]);
    expect(overlaps).to.deep.equal([]);
    const left = await connection.collection(LOCKS_COLLECTION).countDocuments({ key });
    expect(left, 'every lease released').to.equal(0);
  });

  it('serialises 20 concurrent holders across instances', async () => {
    const instances = [instance(10_000), instance(10_000), instance(10_000)];
    const key = `many-${Date.now()}`;
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        instances[i % 3]!.with(key, async () => {
          most = Math.max(most, ++inside);
          await sleep(5);
          inside--;
        }),
      ),
    );
    expect(most).to.equal(1);
  });
});
