// Firebase Cloud Messaging HTTP v1: POST {base}/v1/projects/{project}/messages:send with an OAuth
// bearer token, one registration token per request. Errors come as {error: {code, message, status,
// details: [{errorCode}]}}; UNREGISTERED and INVALID_ARGUMENT are about this token, so never retried.
// The bearer token comes from a service account and is refreshed before it expires; a 401 (a token
// revoked or expired early) gets one retry with a fresh token before it counts as a failure, so a
// routine token change never reaches the breaker.
import { createHash } from 'node:crypto';
import { failureOfStatus, parseRetryAfter, ProviderError, type ProviderFailure } from './provider-error.js';
import type { Notification, ProviderClient } from './provider.js';
import { jsonOf, postJson, type RawAnswer } from './http.js';
import {
  FixedAccessToken,
  OAuthTokenSource,
  type AccessTokens,
  type ServiceAccountKey,
} from './google-oauth.js';

export interface FcmOptions {
  /** e.g. https://fcm.googleapis.com */
  readonly baseUrl: string;
  readonly projectId: string;
  /** A fixed OAuth 2 access token (scope firebase.messaging), never refreshed. */
  readonly accessToken?: string;
  /** A service account whose tokens are fetched and refreshed; exactly one of this and accessToken. */
  readonly serviceAccount?: {
    readonly key: ServiceAccountKey;
    readonly tokenUrl?: string;
    readonly refreshMarginMs?: number;
  };
  readonly fetch?: typeof fetch;
}

interface FcmErrorBody {
  error?: { code?: number; message?: string; status?: string; details?: { errorCode?: string }[] };
}

/**
 * Same for every send of one message, so a resend (after a timeout or a crash mid-call) replaces
 * the notification on the device instead of adding a second one: Android `tag`, APNs
 * `apns-collapse-id` (<= 64 bytes), Web Push `Topic` (<= 32 URL-safe characters).
 */
export function collapseId(messageId: string): string {
  return createHash('sha256').update(messageId).digest('base64url').slice(0, 32);
}

export class FcmClient implements ProviderClient {
  readonly name = 'fcm' as const;
  private readonly url: string;
  private readonly fetchImpl: typeof fetch;
  private readonly tokens: AccessTokens;

  constructor(options: FcmOptions) {
    const base = options.baseUrl.replace(/\/+$/, '');
    this.url = `${base}/v1/projects/${encodeURIComponent(options.projectId)}/messages:send`;
    this.fetchImpl = options.fetch ?? fetch;
    if ((options.accessToken === undefined) === (options.serviceAccount === undefined))
      throw new TypeError('FcmClient needs exactly one of accessToken and serviceAccount');
    this.tokens = options.serviceAccount
      ? new OAuthTokenSource({ ...options.serviceAccount, fetch: this.fetchImpl })
      : new FixedAccessToken(options.accessToken!);
  }

  async send(n: Notification, signal: AbortSignal): Promise<string> {
    const token = await this.tokens.get(signal);
    let answer = await this.post(n, token, signal);
    // Once: a second 401 with a token just issued is our credentials, and the breaker should know.
    if (answer.status === 401 && this.tokens.invalidate(token)) {
      answer = await this.post(n, await this.tokens.get(signal), signal);
    }
    if (answer.status >= 200 && answer.status < 300) {
      const body = jsonOf(answer.text) as { name?: unknown } | undefined;
      return typeof body?.name === 'string' ? body.name : '';
    }
    const body = (jsonOf(answer.text) ?? {}) as FcmErrorBody;
    const code =
      body.error?.details?.find((d) => typeof d.errorCode === 'string')?.errorCode ?? body.error?.status;
    throw new ProviderError(
      'fcm',
      fcmFailure(answer.status, code),
      `fcm answered ${answer.status}${code ? ` ${code}` : ''}: ${body.error?.message ?? answer.text.slice(0, 200)}`,
      { status: answer.status, code, retryAfterMs: parseRetryAfter(answer.headers.get('retry-after')) },
    );
  }

  private post(n: Notification, bearer: string, signal: AbortSignal): Promise<RawAnswer> {
    const tag = collapseId(n.messageId);
    return postJson({
      provider: 'fcm',
      url: this.url,
      bearer,
      signal,
      fetch: this.fetchImpl,
      body: {
        message: {
          token: n.address,
          notification: { title: n.senderName, body: n.preview },
          // FCM data values must be strings.
          data: {
            type: 'message.created',
            messageId: n.messageId,
            channelId: n.channelId,
            seq: String(n.seq),
            createdAt: n.createdAt,
          },
          android: { collapse_key: tag, priority: 'HIGH', notification: { tag } },
          apns: { headers: { 'apns-collapse-id': tag } },
          webpush: { headers: { Topic: tag } },
        },
      },
    });
  }
}

/** SENDER_ID_MISMATCH is a 403 about the token (registered to another project), not our credentials. */
function fcmFailure(status: number, code: string | undefined): ProviderFailure {
  if (code === 'SENDER_ID_MISMATCH') return 'rejected';
  return failureOfStatus(status);
}
