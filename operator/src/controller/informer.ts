// An informer: lists a resource type once, then watches it from that resourceVersion, keeping an
// in-memory cache the reconciler reads instead of the API server. When a watch ends it resumes from the
// last resourceVersion seen; when the server says that version is gone (410) or the watch fails, it
// lists again after a backoff, and tells the handler about every object that changed meanwhile.
// resourceVersions are opaque (the API conventions): they are only ever compared for equality, never
// ordered; what is newer follows from the order in which the server sends them.
import { isGone, type KubeClient } from '../kube/client.js';
import type { ResourceType } from '../kube/resources.js';
import { backoffDelay } from './work-queue.js';

export interface CachedObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
}

export type InformerEvent = 'added' | 'updated' | 'deleted';
export type InformerHandler<T> = (event: InformerEvent, object: T) => void;

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** Server-side watch timeout; the watch is then resumed. */
  watchTimeoutSeconds?: number;
  onError?: (err: unknown, restartInMs: number) => void;
}

export const objectKey = (namespace: string | undefined, name: string): string =>
  namespace ? `${namespace}/${name}` : name;

/** Versions of one object remembered from the server, enough to recognise a late primed write. */
const SEEN_VERSIONS = 16;

export class Informer<T extends CachedObject> {
  readonly #store = new Map<string, T>();
  /** Per key, the resourceVersions the server sent (list or watch), oldest first. */
  readonly #seen = new Map<string, string[]>();
  /** Keys whose cached object is a primed write the watch has not delivered yet. */
  readonly #primed = new Set<string>();
  readonly #handlers: InformerHandler<T>[] = [];
  #resourceVersion = '';
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #stopped = false;
  #abortWatch: (() => void) | undefined;
  #wakeSleep: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  /** Times the list-and-watch started over after a failure. */
  restarts = 0;

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    private readonly options: InformerOptions = {},
  ) {}

  onChange(handler: InformerHandler<T>): this {
    this.#handlers.push(handler);
    return this;
  }

  start(): this {
    this.#loop ??= this.#run();
    return this;
  }

  get synced(): boolean {
    return this.#synced;
  }

  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#store.get(objectKey(namespace, name));
  }

  list(filter?: (object: T) => boolean): T[] {
    const all = [...this.#store.values()];
    return filter ? all.filter(filter) : all;
  }

  /** Records an object the operator just wrote, so a reconcile before its watch event sees it. The
   * watch sends every version in order, so until it sends this one, what it sends is older and does not
   * replace it; a version the server already sent is stale (newer ones may have followed) and ignored. */
  prime(object: T): void {
    const key = objectKey(object.metadata.namespace, object.metadata.name);
    const version = object.metadata.resourceVersion;
    if (!version || this.#store.get(key)?.metadata.resourceVersion === version) return;
    if (this.#seen.get(key)?.includes(version)) return;
    this.#store.set(key, object);
    this.#primed.add(key);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abortWatch?.();
    this.#wakeSleep?.();
    for (const wake of this.#syncWaiters.splice(0)) wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      try {
        await this.#relist();
        failures = 0;
        // Watch, resuming from the last version seen, until the server loses that version or fails.
        while (!this.#stopped) await this.#watchOnce();
      } catch (err) {
        if (this.#stopped) return;
        failures++;
        this.restarts++;
        const delay = isGone(err) ? 0 : backoffDelay(failures, { baseDelayMs: 500, maxDelayMs: 30_000 });
        this.options.onError?.(err, delay);
        await this.#sleep(delay);
      }
    }
  }

  async #relist(): Promise<void> {
    const list = await this.client.list<T>(this.type, this.options.namespace, this.options.labelSelector);
    // A list is the server's current state: it replaces primed writes and the version history.
    this.#primed.clear();
    this.#seen.clear();
    const listed = new Set<string>();
    for (const object of list.items) {
      const key = objectKey(object.metadata.namespace, object.metadata.name);
      listed.add(key);
      this.#upsert(key, object);
    }
    for (const [key, object] of this.#store) {
      if (!listed.has(key)) {
        this.#store.delete(key);
        this.#emit('deleted', object);
      }
    }
    this.#resourceVersion = list.metadata.resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      for (const wake of this.#syncWaiters.splice(0)) wake();
    }
  }

  async #watchOnce(): Promise<void> {
    const query: Record<string, string> = {
      resourceVersion: this.#resourceVersion,
      timeoutSeconds: String(this.options.watchTimeoutSeconds ?? 300),
    };
    if (this.options.labelSelector) query.labelSelector = this.options.labelSelector;
    const handle = this.client.watch<T>(this.type, this.options.namespace, query, (event) => {
      const rv = event.object.metadata?.resourceVersion;
      if (rv) this.#resourceVersion = rv;
      if (event.type === 'BOOKMARK') return;
      const key = objectKey(event.object.metadata.namespace, event.object.metadata.name);
      if (event.type === 'DELETED') {
        this.#remember(key, event.object);
        // A primed write not delivered yet came after this deletion (a re-creation): keep it.
        if (this.#primed.has(key)) return;
        this.#store.delete(key);
        this.#emit('deleted', event.object);
      } else {
        this.#upsert(key, event.object);
      }
    });
    this.#abortWatch = () => handle.abort();
    try {
      await handle.done;
    } finally {
      this.#abortWatch = undefined;
    }
  }

  /** An object as the server sent it, in the server's order. */
  #upsert(key: string, object: T): void {
    this.#remember(key, object);
    const previous = this.#store.get(key);
    const same = previous?.metadata.resourceVersion === object.metadata.resourceVersion;
    if (this.#primed.has(key)) {
      // Until the watch reaches the primed write, what it sends is older than what is cached.
      if (same) this.#primed.delete(key);
      return;
    }
    if (same) return;
    this.#store.set(key, object);
    this.#emit(previous ? 'updated' : 'added', object);
  }

  #remember(key: string, object: T): void {
    const version = object.metadata.resourceVersion;
    if (!version) return;
    const versions = this.#seen.get(key) ?? [];
    versions.push(version);
    if (versions.length > SEEN_VERSIONS) versions.shift();
    this.#seen.set(key, versions);
  }

  #emit(event: InformerEvent, object: T): void {
    for (const handler of this.#handlers) handler(event, object);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wakeSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
