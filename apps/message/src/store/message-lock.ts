// Serialises changes to one message across instances. MongoDB applies $set and $inc atomically, but
// FerretDB v1 (our test store, and a supported target) reads and writes updates separately, so an
// edit racing a delete could resurrect the message or give two changes one version. Two operations
// are atomic on both stores: inserting a document against a unique index, and deleting one document
// by its exact `_id`. The lock is built from those alone:
// - a lease is a document `{_id: <key>#<token>, key, expiresAt}` with a unique index on `key`: the
//   insert succeeds for one holder at a time;
// - release deletes by the exact `_id`, which names this holder's token, so a holder that outlived
//   its lease can only delete its own lease, never the next holder's (a filter such as
//   `{_id: key, owner}` is not enough: FerretDB evaluates the filter and the delete separately);
// - a lease past its expiry belongs to a holder that died (or stalled): it is broken by reading it
//   and deleting that exact `_id`, so a lease taken meanwhile by someone else survives.
import { randomUUID } from 'node:crypto';
import type { mongo } from 'mongoose';
import { isDuplicateKey, type StoreGuard } from './guard.js';

export interface LeaseDoc {
  /** `<key>#<token>`: unique per acquisition. */
  _id: string;
  /** What is locked; unique across the collection. */
  key: string;
  expiresAt: Date;
}

export const LOCKS_COLLECTION = 'message_locks';

/** The unique index the locks rely on; documents of the former layout (`_id` = key, no `key`) go. */
export async function ensureLockIndex(collection: mongo.Collection<LeaseDoc>): Promise<void> {
  await collection.deleteMany({ key: { $exists: false } });
  await collection.createIndex({ key: 1 }, { unique: true, name: 'lock_key' });
}

export interface MessageLocksOptions {
  /** How long a lease is valid: longer than any change takes (store calls time out after 5 s). */
  leaseMs?: number;
  /** How long to wait for a lease before giving up. */
  waitMs?: number;
}

export class MessageLocks {
  /** In-process queue per key, so one instance does not contend with itself. */
  readonly #local = new Map<string, Promise<unknown>>();
  readonly #leaseMs: number;
  readonly #waitMs: number;

  constructor(
    private readonly collection: mongo.Collection<LeaseDoc>,
    private readonly guard: StoreGuard,
    options: MessageLocksOptions = {},
  ) {
    this.#leaseMs = options.leaseMs ?? 10_000;
    this.#waitMs = options.waitMs ?? 10_000;
  }

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
    const lease: LeaseDoc = { _id: `${key}#${randomUUID()}`, key, expiresAt: new Date() };
    const deadline = Date.now() + this.#waitMs;
    for (let attempt = 0; ; attempt++) {
      try {
        lease.expiresAt = new Date(Date.now() + this.#leaseMs);
        await this.guard.run('take lock', () => this.collection.insertOne({ ...lease }));
        break;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        await this.#breakIfStale(key).catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`lock ${key} not acquired within ${this.#waitMs} ms`);
        await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt * 2) * (0.5 + Math.random())));
      }
    }
    try {
      return await fn();
    } finally {
      await this.guard
        .run('release lock', () => this.collection.deleteOne({ _id: lease._id }))
        .catch(() => undefined);
    }
  }

  /** Deletes the lease holding `key` if it expired, by its exact `_id` (never a newer lease). */
  async #breakIfStale(key: string): Promise<void> {
    const holder = await this.guard.run('read lock', () => this.collection.findOne({ key }));
    if (!holder || holder.expiresAt.getTime() >= Date.now()) return;
    await this.guard.run('break stale lock', () => this.collection.deleteOne({ _id: holder._id }));
  }
}
