// Serialises changes to one message across instances. MongoDB applies $addToSet, $pull and $inc
// atomically, but FerretDB v1 (our test store, and a supported target) reads and writes updates
// separately, so concurrent reactions lose each other. Inserting a document with a unique _id is
// atomic on both, so that is the lock: insert to take, delete to release, and an expiry so a
// holder that died does not block the message forever.
import type { mongo } from 'mongoose';
import { isDuplicateKey, type StoreGuard } from './guard.js';

interface LockDoc {
  _id: string;
  expiresAt: Date;
}

export class MessageLocks {
  /** In-process queue per key, so one instance does not contend with itself. */
  readonly #local = new Map<string, Promise<unknown>>();

  constructor(
    private readonly collection: mongo.Collection<LockDoc>,
    private readonly guard: StoreGuard,
    private readonly leaseMs = 10_000,
    private readonly waitMs = 10_000,
  ) {}

  async with<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#local.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.#locked(key, fn));
    const tail = run.catch(() => undefined);
    this.#local.set(key, tail);
    void tail.then(() => {
      if (this.#local.get(key) === tail) this.#local.delete(key);
    });
    return run;
  }

  async #locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.waitMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.guard.run('take lock', () =>
          this.collection.insertOne({ _id: key, expiresAt: new Date(Date.now() + this.leaseMs) }),
        );
        break;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // A lease past its expiry belongs to a holder that died: break it.
        await this.guard
          .run('break stale lock', () =>
            this.collection.deleteOne({ _id: key, expiresAt: { $lt: new Date() } }),
          )
          .catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`lock ${key} not acquired within ${this.waitMs} ms`);
        await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt * 2) * (0.5 + Math.random())));
      }
    }
    try {
      return await fn();
    } finally {
      await this.guard
        .run('release lock', () => this.collection.deleteOne({ _id: key }))
        .catch(() => undefined);
    }
  }
}
