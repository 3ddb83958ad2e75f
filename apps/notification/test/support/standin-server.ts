// The HTTP plumbing shared by the FCM and SendGrid stand-ins (tests only): a loopback server that
// records every request, validates it through the subclass, and answers as programmed: the
// provider's normal answer, a failure status, a delay, a hang, or held until released.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Behaviour =
  /** The provider's normal answer for a valid request. */
  | { readonly kind: 'answer' }
  /** An error answer in the provider's shape. */
  | {
      readonly kind: 'fail';
      readonly status: number;
      readonly code?: string;
      readonly message?: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** The normal answer after a delay. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Never answers; the client has to give up. */
  | { readonly kind: 'hang' };

export interface RecordedRequest {
  readonly seq: number;
  readonly receivedAt: number;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
  /** Why the request was refused as invalid (a 4xx the client caused), if it was. */
  invalid?: string;
  /** Status written, undefined while unanswered. */
  status?: number;
  answeredAt?: number;
  /** The client closed the connection before the answer was written. */
  clientGone: boolean;
  /** Waited for release() (arrived while holding). */
  held: boolean;
}

export interface Answer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export abstract class StandInServer {
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly queued: Behaviour[] = [];
  private fallback: Behaviour = { kind: 'answer' };
  private held: (() => void)[] | null = null;
  private readonly waiters = new Set<() => void>();
  url = '';
  port = 0;

  /** The path this provider serves, or null for anything else (404). */
  protected abstract matches(method: string, path: string): boolean;
  /** Checks auth and the body like the real provider: an error answer, or null when valid. */
  protected abstract check(req: IncomingMessage, body: unknown): Answer | null;
  /** The provider's success answer. */
  protected abstract success(request: RecordedRequest): Answer;
  /** The provider's error body for a programmed failure. */
  protected abstract failure(status: number, code: string | undefined, message: string | undefined): unknown;

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  /** The next requests get these behaviours, in arrival order; then the default again. */
  next(...behaviours: Behaviour[]): void {
    this.queued.push(...behaviours);
  }

  /** Every request (after queued ones) gets this. */
  always(behaviour: Behaviour): void {
    this.fallback = behaviour;
  }

  /** Requests wait unanswered from now on, until release(). */
  hold(): void {
    this.held ??= [];
  }

  /** Answers every held request (with the behaviour it drew) and stops holding. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const go of held) go();
  }

  /** Requests waiting for release() right now. */
  heldOpen(): number {
    return this.requests.filter((r) => r.held && r.status === undefined).length;
  }

  /** Valid requests that got the provider's success answer. */
  accepted(): RecordedRequest[] {
    return this.requests.filter((r) => r.status !== undefined && r.status < 300);
  }

  /** Resolves when `predicate` holds (checked on every request event), or rejects after timeoutMs. */
  async waitFor(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `stand-in: ${what} not reached within ${timeoutMs} ms (${this.requests.length} requests)`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    this.release();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', 'http://standin').pathname;
    if (!this.matches(req.method ?? '', path)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = undefined;
    }
    const record: RecordedRequest = {
      seq: this.requests.length + 1,
      receivedAt: Date.now(),
      path,
      headers: req.headers,
      body,
      clientGone: false,
      held: false,
    };
    this.requests.push(record);
    res.once('close', () => {
      if (!res.writableFinished) record.clientGone = true;
      this.notify();
    });
    // The behaviour is drawn on arrival, so queued failures hit requests in arrival order.
    const behaviour = this.queued.shift() ?? this.fallback;
    this.notify();
    if (this.held) {
      record.held = true;
      this.notify();
      await new Promise<void>((resolve) => this.held!.push(resolve));
    }
    if (behaviour.kind === 'hang') return;
    if (behaviour.kind === 'delay') await new Promise((r) => setTimeout(r, behaviour.ms));

    let answer: Answer;
    const invalid = body === undefined ? this.invalidJson() : this.check(req, body);
    if (invalid) {
      answer = invalid;
      record.invalid = JSON.stringify(invalid.body);
    } else if (behaviour.kind === 'fail') {
      answer = {
        status: behaviour.status,
        headers: behaviour.headers ?? {},
        body: this.failure(behaviour.status, behaviour.code, behaviour.message),
      };
    } else {
      answer = this.success(record);
    }
    record.status = answer.status;
    record.answeredAt = Date.now();
    const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
    if (res.destroyed) {
      this.notify();
      return;
    }
    res.writeHead(answer.status, {
      ...(payload ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      ...answer.headers,
    });
    res.end(payload);
    this.notify();
  }

  private invalidJson(): Answer {
    return { status: 400, body: this.failure(400, 'INVALID_ARGUMENT', 'request body is not JSON') };
  }
}

/** Is `value` a plain object? */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
