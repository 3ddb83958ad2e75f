// SendGrid v3 Mail Send: POST {base}/v3/mail/send with the API key as bearer token; 202 with an empty
// body on acceptance, {errors: [{message, field, help}]} otherwise. Rate limits answer 429 with
// X-RateLimit-Reset (epoch seconds), which counts like a Retry-After.
import { failureOfStatus, parseRetryAfter, ProviderError } from './provider-error.js';
import type { Notification, ProviderClient } from './provider.js';
import { jsonOf, postJson } from './http.js';

export interface SendGridOptions {
  /** e.g. https://api.sendgrid.com */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly from: { readonly email: string; readonly name: string };
  readonly fetch?: typeof fetch;
}

interface SendGridErrorBody {
  errors?: { message?: string; field?: string | null; help?: unknown }[];
}

export class SendGridClient implements ProviderClient {
  readonly name = 'sendgrid' as const;
  private readonly url: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: SendGridOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/v3/mail/send`;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async send(n: Notification, signal: AbortSignal): Promise<string> {
    const answer = await postJson({
      provider: 'sendgrid',
      url: this.url,
      bearer: this.options.apiKey,
      signal,
      fetch: this.fetchImpl,
      body: {
        personalizations: [{ to: [{ email: n.address }] }],
        from: this.options.from,
        subject: `${n.senderName} sent you a message`,
        content: [{ type: 'text/plain', value: `${n.senderName}: ${n.preview}` }],
        // Lets support trace a mail back to its message; SendGrid keeps custom_args in its event webhook.
        custom_args: { messageId: n.messageId, channelId: n.channelId, recipientId: n.recipientId },
        headers: { 'X-ChatCluster-Notification': `${n.messageId}:${n.recipientId}` },
      },
    });
    if (answer.status >= 200 && answer.status < 300) return answer.headers.get('x-message-id') ?? '';
    const body = (jsonOf(answer.text) ?? {}) as SendGridErrorBody;
    const first = body.errors?.[0];
    throw new ProviderError(
      'sendgrid',
      failureOfStatus(answer.status),
      `sendgrid answered ${answer.status}: ${first?.message ?? answer.text.slice(0, 200)}`,
      {
        status: answer.status,
        code: first?.field ?? undefined,
        retryAfterMs: retryAfterOf(answer.headers),
      },
    );
  }
}

function retryAfterOf(headers: Headers): number | undefined {
  const retryAfter = parseRetryAfter(headers.get('retry-after'));
  if (retryAfter !== undefined) return retryAfter;
  const reset = headers.get('x-ratelimit-reset');
  if (reset === null || !/^\d+$/.test(reset.trim())) return undefined;
  return Math.max(0, Number(reset) * 1000 - Date.now());
}
