import { randomBytes } from 'node:crypto';

/** A small JSON client for the auth API in tests. */
export interface ApiResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface ErrorBody {
  error: { code: string; message: string; retryAfterSeconds?: number; requestId: string };
}

export interface SessionBody {
  user: { id: string; username: string; email: string; displayName: string };
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  refreshToken: string;
}

export class Api {
  constructor(readonly baseUrl: string) {}

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: unknown; rawBody?: string; token?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // leave as text
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  get<T = Record<string, unknown>>(path: string, token?: string): Promise<ApiResponse<T>> {
    return this.call<T>('GET', path, token ? { token } : {});
  }

  post<T = Record<string, unknown>>(path: string, body?: unknown, token?: string): Promise<ApiResponse<T>> {
    return this.call<T>('POST', path, { body: body ?? {}, ...(token ? { token } : {}) });
  }

  del<T = Record<string, unknown>>(path: string, token?: string): Promise<ApiResponse<T>> {
    return this.call<T>('DELETE', path, token ? { token } : {});
  }

  async signup(username: string, password = 'correct horse battery'): Promise<SessionBody> {
    const res = await this.post<SessionBody>('/api/v1/auth/signup', {
      username,
      email: `${username}@example.test`,
      password,
    });
    if (res.status !== 201) throw new Error(`signup ${username}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
}

/** A username no other test uses (rate limits are per account, in shared Redis). */
export function uniqueName(prefix: string): string {
  return `${prefix.slice(0, 12)}_${randomBytes(8).toString('hex')}`;
}

export async function eventually<T>(
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 20_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
    last = await probe();
  }
  return last;
}
