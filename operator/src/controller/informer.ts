// An informer: lists a resource type once, then watches it from that resourceVersion, keeping an
// in-memory cache the reconciler reads instead of the API server. When a watch ends it resumes from the
// last resourceVersion seen; when the server says that version is gone (410) or the watch fails, it
// lists again after a backoff, and tells the handler about every object that changed meanwhile.
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

export class Informer<T extends CachedObject> {
  readonly #store = new Map<string, T>();
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

  /** Records an object the operator just wrote, so a reconcile before its watch event sees it.
   * Kept only if newer than the cached copy (resourceVersions are etcd revisions, compared as numbers). */
  prime(object: T): void {
    const key = objectKey(object.metadata.namespace, object.metadata.name);
    const cached = this.#store.get(key);
    const next = Number(object.metadata.resourceVersion);
    if (cached && !(next > Number(cached.metadata.resourceVersion))) return;
    this.#store.set(key, object);
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
    const seen = new Set<string>();
    for (const object of list.items) {
      const key = objectKey(object.metadata.namespace, object.metadata.name);
      seen.add(key);
      this.#upsert(key, object);
    }
    for (const [key, object] of this.#store) {
      if (!seen.has(key)) {
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

  #upsert(key: string, object: T): void {
    const previous = this.#store.get(key);
    // Not older than what is cached (a primed write may be ahead of the watch).
    if (previous && !(Number(object.metadata.resourceVersion) > Number(previous.metadata.resourceVersion))) {
      if (previous.metadata.resourceVersion === object.metadata.resourceVersion) return;
      if (!Number.isNaN(Number(object.metadata.resourceVersion))) return;
    }
    this.#store.set(key, object);
    this.#emit(previous ? 'updated' : 'added', object);
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
