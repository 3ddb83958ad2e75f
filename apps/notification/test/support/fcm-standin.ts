// A stand-in for FCM HTTP v1 (tests only): POST /v1/projects/{project}/messages:send with a bearer
// token, validated like FCM validates it (one target, string data values, known fields only),
// answering {name: "projects/{project}/messages/{id}"} or FCM's error shape
// {error: {code, message, status, details: [{@type, errorCode}]}}.
import type { IncomingMessage } from 'node:http';
import { isObject, StandInServer, type Answer, type RecordedRequest } from './standin-server.js';

const statusNames: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

const messageFields = new Set([
  'token',
  'topic',
  'condition',
  'name',
  'data',
  'notification',
  'android',
  'apns',
  'webpush',
  'fcm_options',
]);

/** What a valid send carried, for the tests' bookkeeping. */
export interface FcmSend {
  readonly token: string;
  readonly messageId: string;
  readonly collapseId: string;
  readonly title: string;
  readonly body: string;
}

export class FcmStandIn extends StandInServer {
  /** Tokens FCM no longer knows: sends to them answer 404 UNREGISTERED. */
  readonly unregistered = new Set<string>();
  private ids = 0;

  constructor(
    readonly projectId: string,
    /** The one token accepted, or the OAuth server whose live tokens are. */
    readonly accessToken: string | { accepts(token: string): boolean },
  ) {
    super();
  }

  /** The send a recorded request carried. */
  static sendOf(request: RecordedRequest): FcmSend {
    const message = (request.body as { message: Record<string, unknown> }).message;
    const data = message['data'] as Record<string, string>;
    const notification = message['notification'] as { title: string; body: string };
    const android = message['android'] as { notification: { tag: string } };
    return {
      token: message['token'] as string,
      messageId: data['messageId']!,
      collapseId: android.notification.tag,
      title: notification.title,
      body: notification.body,
    };
  }

  /** Sends FCM accepted (answered 200), as {token, messageId, ...}. */
  sends(): FcmSend[] {
    return this.accepted().map((r) => FcmStandIn.sendOf(r));
  }

  protected matches(method: string, path: string): boolean {
    return method === 'POST' && /^\/v1\/projects\/[^/]+\/messages:send$/.test(path);
  }

  protected check(req: IncomingMessage, body: unknown): Answer | null {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const valid =
      typeof this.accessToken === 'string' ? bearer === this.accessToken : this.accessToken.accepts(bearer);
    if (!valid) {
      return this.error(401, 'Request had invalid authentication credentials.');
    }
    if (path !== `/v1/projects/${this.projectId}/messages:send`) {
      return this.error(403, 'Permission denied on resource project.', 'SENDER_ID_MISMATCH');
    }
    if (!isObject(body) || !isObject(body['message'])) return this.error(400, 'message is required');
    for (const key of Object.keys(body)) {
      if (key !== 'message' && key !== 'validate_only') return this.error(400, `Unknown name "${key}"`);
    }
    const message = body['message'];
    for (const key of Object.keys(message)) {
      if (!messageFields.has(key)) return this.error(400, `Unknown name "${key}" at 'message'`);
    }
    const targets = ['token', 'topic', 'condition'].filter((k) => message[k] !== undefined);
    if (targets.length !== 1) return this.error(400, 'exactly one of token, topic or condition is required');
    if (typeof message['token'] !== 'string' || message['token'].length === 0) {
      return this.error(400, 'The registration token is not a valid FCM registration token');
    }
    const data = message['data'];
    if (data !== undefined) {
      if (!isObject(data) || Object.values(data).some((v) => typeof v !== 'string')) {
        return this.error(400, 'data must only contain string values');
      }
    }
    const notification = message['notification'];
    if (notification !== undefined) {
      if (!isObject(notification) || Object.values(notification).some((v) => typeof v !== 'string')) {
        return this.error(400, 'notification fields must be strings');
      }
    }
    const android = message['android'];
    if (
      android !== undefined &&
      (!isObject(android) || (android['notification'] !== undefined && !isObject(android['notification'])))
    ) {
      return this.error(400, 'android must be an AndroidConfig');
    }
    const apnsId =
      isObject(message['apns']) && isObject(message['apns']['headers'])
        ? message['apns']['headers']['apns-collapse-id']
        : undefined;
    if (typeof apnsId === 'string' && Buffer.byteLength(apnsId) > 64)
      return this.error(400, 'apns-collapse-id over 64 bytes');
    const topic =
      isObject(message['webpush']) && isObject(message['webpush']['headers'])
        ? message['webpush']['headers']['Topic']
        : undefined;
    if (typeof topic === 'string' && !/^[A-Za-z0-9_-]{1,32}$/.test(topic))
      return this.error(400, 'webpush Topic must be <= 32 URL-safe characters');
    if (this.unregistered.has(message['token'])) {
      return this.error(404, 'Requested entity was not found.', 'UNREGISTERED');
    }
    return null;
  }

  protected success(): Answer {
    this.ids += 1;
    return { status: 200, body: { name: `projects/${this.projectId}/messages/0:${Date.now()}%${this.ids}` } };
  }

  protected failure(status: number, code: string | undefined, message: string | undefined): unknown {
    return this.body(status, message ?? `programmed failure ${status}`, code);
  }

  private error(status: number, message: string, errorCode?: string): Answer {
    return { status, body: this.body(status, message, errorCode ?? statusNames[status]) };
  }

  private body(status: number, message: string, errorCode: string | undefined): unknown {
    return {
      error: {
        code: status,
        message,
        status: statusNames[status] ?? 'UNKNOWN',
        details: errorCode
          ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }]
          : [],
      },
    };
  }
}
