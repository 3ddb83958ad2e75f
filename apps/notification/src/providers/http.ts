// The transport part both provider clients share: one JSON POST under the caller's AbortSignal, with
// transport errors turned into retryable ProviderErrors and an abort reported as its reason.
import type { ProviderName } from '../events.js';
import { ProviderError } from './provider-error.js';

export interface JsonPost {
  readonly provider: ProviderName;
  readonly url: string;
  readonly bearer: string;
  readonly body: unknown;
  readonly signal: AbortSignal;
  readonly fetch: typeof fetch;
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export async function postJson(request: JsonPost): Promise<RawAnswer> {
  const { signal } = request;
  try {
    const res = await request.fetch(request.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${request.bearer}`,
        'content-type': 'application/json; charset=utf-8',
        accept: 'application/json',
      },
      body: JSON.stringify(request.body),
      signal,
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch (err) {
    // The deadline (or shutdown) aborted the call: report why, so the caller sees TIMEOUT, not "aborted".
    if (signal.aborted) throw signal.reason;
    throw new ProviderError(request.provider, 'retryable', `${request.provider}: ${describe(err)}`, {
      cause: err,
    });
  }
}

/** undici reports "fetch failed" with the real reason (ECONNRESET, ECONNREFUSED, …) as the cause. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return cause?.code ? `${err.message} (${cause.code})` : err.message;
}

/** JSON body of an answer, or undefined when it is empty or not JSON. */
export function jsonOf(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
