// A small REST client over @kubernetes/client-node's KubeConfig (authentication, TLS) for exactly what
// the operator does: get, list, watch, server-side apply (objects and the status subresource), delete,
// create, update. Every request is counted by verb, which is how tests and the benchmark prove that a
// steady resync writes nothing.
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { KubeConfig } from '@kubernetes/client-node';
import { RequestContext, type HttpMethod } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { resourcePath, resourceTypeOf, type ResourceType } from './resources.js';

export type Verb = 'get' | 'list' | 'watch' | 'apply' | 'create' | 'update' | 'patch' | 'delete';
export const WRITE_VERBS: ReadonlySet<Verb> = new Set(['apply', 'create', 'update', 'patch', 'delete']);

export interface RequestInfo {
  verb: Verb;
  method: string;
  path: string;
  /** The object being written, when there is one (parsed body). */
  body?: unknown;
}

export interface ResponseInfo extends RequestInfo {
  status: number;
  durationMs: number;
}

export interface KubeClientOptions {
  fieldManager: string;
  /** Called before each request is sent; tests use it to change the world at a precise moment. */
  beforeRequest?: (request: RequestInfo) => Promise<void> | void;
  /** Called after each response (or network failure, status 0): metrics. */
  afterResponse?: (response: ResponseInfo) => void;
  requestTimeoutMs?: number;
}

/** An answer of the API server other than 2xx, with its Status reason (Conflict, NotFound, …). */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.status === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.status === 409;
export const isGone = (err: unknown): boolean => err instanceof KubeApiError && err.status === 410;

export interface KubeList<T> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface WatchHandle {
  /** Resolves when the server ends the watch, rejects on a failure (including an ERROR event). */
  done: Promise<void>;
  abort(): void;
}

interface AnyObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string };
}

export class KubeClient {
  readonly counts = new Map<Verb, number>();
  readonly fieldManager: string;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly options: KubeClientOptions,
  ) {
    this.fieldManager = options.fieldManager;
  }

  /** Requests sent so far, optionally only of some verbs. */
  requestCount(verbs?: Iterable<Verb>): number {
    const wanted = verbs ? new Set(verbs) : undefined;
    let total = 0;
    for (const [verb, n] of this.counts) if (!wanted || wanted.has(verb)) total += n;
    return total;
  }

  writeCount(): number {
    return this.requestCount(WRITE_VERBS);
  }

  async get<T>(type: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return this.json<T>('GET', 'get', resourcePath(type, namespace, name));
  }

  /** Lists every page. */
  async list<T>(type: ResourceType, namespace?: string, labelSelector?: string): Promise<KubeList<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const query: Record<string, string> = { limit: '500' };
      if (labelSelector) query.labelSelector = labelSelector;
      if (cont) query.continue = cont;
      const page = await this.json<KubeList<T>>('GET', 'list', resourcePath(type, namespace), { query });
      items.push(...page.items);
      resourceVersion = page.metadata.resourceVersion;
      cont = page.metadata.continue || undefined;
    } while (cont);
    return { metadata: { resourceVersion }, items };
  }

  /** Server-side apply under the operator's field manager. force takes over fields others set. */
  async apply<T>(
    object: AnyObject,
    opts: { force: boolean; dryRun?: boolean } = { force: true },
  ): Promise<T> {
    const type = resourceTypeOf(object);
    return this.json<T>(
      'PATCH',
      'apply',
      resourcePath(type, object.metadata.namespace, object.metadata.name),
      {
        query: this.applyQuery(opts),
        body: object,
        contentType: 'application/apply-patch+yaml',
      },
    );
  }

  /** Server-side apply of the status subresource. */
  async applyStatus<T>(object: AnyObject, opts: { force: boolean } = { force: true }): Promise<T> {
    const type = resourceTypeOf(object);
    const path = `${resourcePath(type, object.metadata.namespace, object.metadata.name)}/status`;
    return this.json<T>('PATCH', 'apply', path, {
      query: this.applyQuery(opts),
      body: object,
      contentType: 'application/apply-patch+yaml',
    });
  }

  async create<T>(object: AnyObject, opts: { dryRun?: boolean } = {}): Promise<T> {
    const type = resourceTypeOf(object);
    return this.json<T>('POST', 'create', resourcePath(type, object.metadata.namespace), {
      query: { fieldManager: this.fieldManager, ...(opts.dryRun ? { dryRun: 'All' } : {}) },
      body: object,
    });
  }

  async update<T>(object: AnyObject): Promise<T> {
    const type = resourceTypeOf(object);
    return this.json<T>(
      'PUT',
      'update',
      resourcePath(type, object.metadata.namespace, object.metadata.name),
      {
        query: { fieldManager: this.fieldManager },
        body: object,
      },
    );
  }

  async mergePatch<T>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
  ): Promise<T> {
    return this.json<T>('PATCH', 'patch', resourcePath(type, namespace, name), {
      query: { fieldManager: this.fieldManager },
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  /** Deletes, only if the object still has this uid (so a recreated namesake is left alone). */
  async delete(type: ResourceType, namespace: string | undefined, name: string, uid?: string): Promise<void> {
    await this.json('DELETE', 'delete', resourcePath(type, namespace, name), {
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: 'Background',
        ...(uid ? { preconditions: { uid } } : {}),
      },
    });
  }

  /** A raw GET of any path (discovery). */
  async getPath<T>(path: string): Promise<T> {
    return this.json<T>('GET', 'get', path);
  }

  /** A raw GET answered in text, e.g. the API server's /metrics. */
  async getText(path: string): Promise<string> {
    const response = await this.send('GET', 'get', path, { signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    if (response.status !== 200) throw await this.errorOf(response.status, text);
    return text;
  }

  watch<T>(
    type: ResourceType,
    namespace: string | undefined,
    query: Record<string, string>,
    onEvent: (event: WatchEvent<T>) => void,
  ): WatchHandle {
    const controller = new AbortController();
    const path = resourcePath(type, namespace);
    const fullQuery = { ...query, watch: 'true', allowWatchBookmarks: 'true' };
    const done = (async () => {
      const response = await this.send('GET', 'watch', path, { query: fullQuery, signal: controller.signal });
      if (response.status !== 200) throw await this.errorOf(response.status, response.text);
      if (!response.body) return;
      const lines = createInterface({ input: Readable.fromWeb(response.body as never), crlfDelay: Infinity });
      try {
        for await (const line of lines) {
          if (line.trim() === '') continue;
          const event = JSON.parse(line) as WatchEvent<T>;
          if (event.type === 'ERROR') {
            const status = event.object as unknown as { code?: number; reason?: string; message?: string };
            throw new KubeApiError(
              status.code ?? 500,
              status.reason ?? 'WatchError',
              status.message ?? 'watch error',
            );
          }
          onEvent(event);
        }
      } catch (err) {
        if (controller.signal.aborted) return;
        throw err;
      }
    })();
    return { done, abort: () => controller.abort() };
  }

  private applyQuery(opts: { force: boolean; dryRun?: boolean }): Record<string, string> {
    return {
      fieldManager: this.fieldManager,
      ...(opts.force ? { force: 'true' } : {}),
      ...(opts.dryRun ? { dryRun: 'All' } : {}),
    };
  }

  private async json<T>(
    method: HttpMethod,
    verb: Verb,
    path: string,
    opts: { query?: Record<string, string>; body?: unknown; contentType?: string } = {},
  ): Promise<T> {
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 30_000);
    const response = await this.send(method, verb, path, { ...opts, signal: timeout });
    const text = await response.text();
    if (response.status < 200 || response.status >= 300) throw await this.errorOf(response.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async send(
    method: HttpMethod,
    verb: Verb,
    path: string,
    opts: { query?: Record<string, string>; body?: unknown; contentType?: string; signal: AbortSignal },
  ): Promise<{ status: number; text: () => Promise<string>; body: ReadableStream | null }> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const info: RequestInfo = { verb, method, path, ...(opts.body !== undefined ? { body: opts.body } : {}) };
    await this.options.beforeRequest?.(info);
    this.counts.set(verb, (this.counts.get(verb) ?? 0) + 1);

    const ctx = new RequestContext(url.toString(), method);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const started = performance.now();
    try {
      const response = await fetch(url, {
        method,
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: opts.signal,
        dispatcher: ctx.getDispatcher(),
      });
      this.options.afterResponse?.({
        ...info,
        status: response.status,
        durationMs: performance.now() - started,
      });
      return { status: response.status, text: () => response.text(), body: response.body };
    } catch (err) {
      this.options.afterResponse?.({ ...info, status: 0, durationMs: performance.now() - started });
      throw err;
    }
  }

  private errorOf(status: number, text: string | (() => Promise<string>)): Promise<KubeApiError> {
    const parse = (body: string): KubeApiError => {
      try {
        const s = JSON.parse(body) as { reason?: string; message?: string; details?: unknown };
        return new KubeApiError(status, s.reason ?? String(status), s.message ?? body, s.details);
      } catch {
        return new KubeApiError(status, String(status), body || `HTTP ${status}`);
      }
    };
    return typeof text === 'string' ? Promise.resolve(parse(text)) : text().then(parse);
  }
}
