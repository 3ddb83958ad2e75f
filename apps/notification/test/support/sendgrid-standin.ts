// A stand-in for SendGrid v3 Mail Send (tests only): POST /v3/mail/send with the API key as bearer
// token, validated like SendGrid validates it (personalizations with recipients, a from address,
// a subject, content, string custom_args), answering 202 with an empty body and X-Message-Id, or
// SendGrid's error shape {errors: [{message, field, help}]}.
import type { IncomingMessage } from 'node:http';
import { isObject, StandInServer, type Answer } from './standin-server.js';

const email = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const reservedHeaders = new Set([
  'x-sg-id',
  'x-sg-eid',
  'received',
  'dkim-signature',
  'content-type',
  'content-transfer-encoding',
  'to',
  'from',
  'subject',
  'reply-to',
  'cc',
  'bcc',
]);

export interface SendGridSend {
  readonly to: string;
  readonly messageId: string;
  readonly subject: string;
  readonly text: string;
}

export class SendGridStandIn extends StandInServer {
  /** Addresses SendGrid refuses as invalid (400 on personalizations.0.to.0.email). */
  readonly invalidAddresses = new Set<string>();
  private ids = 0;

  constructor(readonly apiKey: string) {
    super();
  }

  /** Mails SendGrid accepted (answered 202). */
  sends(): SendGridSend[] {
    return this.accepted().map((r) => {
      const body = r.body as {
        personalizations: { to: { email: string }[] }[];
        subject: string;
        content: { value: string }[];
        custom_args: Record<string, string>;
      };
      return {
        to: body.personalizations[0]!.to[0]!.email,
        messageId: body.custom_args['messageId']!,
        subject: body.subject,
        text: body.content[0]!.value,
      };
    });
  }

  protected matches(method: string, path: string): boolean {
    return method === 'POST' && path === '/v3/mail/send';
  }

  protected check(req: IncomingMessage, body: unknown): Answer | null {
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return this.error(401, 'The provided authorization grant is invalid, expired, or revoked', null);
    }
    if (!isObject(body)) return this.error(400, 'Bad Request', null);
    const personalizations = body['personalizations'];
    if (!Array.isArray(personalizations) || personalizations.length < 1 || personalizations.length > 1000) {
      return this.error(
        400,
        'The personalizations field is required and must have at least one personalization.',
        'personalizations',
      );
    }
    for (const [i, p] of personalizations.entries()) {
      if (!isObject(p) || !Array.isArray(p['to']) || p['to'].length === 0) {
        return this.error(
          400,
          'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
          `personalizations.${i}.to`,
        );
      }
      for (const [j, to] of (p['to'] as unknown[]).entries()) {
        const address = isObject(to) ? to['email'] : undefined;
        if (typeof address !== 'string' || !email.test(address) || this.invalidAddresses.has(address)) {
          return this.error(400, 'Does not contain a valid address.', `personalizations.${i}.to.${j}.email`);
        }
      }
    }
    const from = body['from'];
    if (!isObject(from) || typeof from['email'] !== 'string' || !email.test(from['email'])) {
      return this.error(
        400,
        'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.',
        'from.email',
      );
    }
    if (typeof body['subject'] !== 'string' || body['subject'].length === 0) {
      return this.error(
        400,
        'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
        'subject',
      );
    }
    const content = body['content'];
    if (
      !Array.isArray(content) ||
      content.length === 0 ||
      !content.every(
        (c) =>
          isObject(c) &&
          typeof c['type'] === 'string' &&
          typeof c['value'] === 'string' &&
          c['value'].length > 0,
      )
    ) {
      return this.error(
        400,
        'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block.',
        'content',
      );
    }
    const customArgs = body['custom_args'];
    if (
      customArgs !== undefined &&
      (!isObject(customArgs) || Object.values(customArgs).some((v) => typeof v !== 'string'))
    ) {
      return this.error(400, 'Custom args must be strings.', 'custom_args');
    }
    const headers = body['headers'];
    if (headers !== undefined) {
      if (!isObject(headers) || Object.values(headers).some((v) => typeof v !== 'string')) {
        return this.error(400, 'Headers must be strings.', 'headers');
      }
      const reserved = Object.keys(headers).find((h) => reservedHeaders.has(h.toLowerCase()));
      if (reserved) return this.error(400, `The header ${reserved} is reserved.`, 'headers');
    }
    return null;
  }

  protected success(): Answer {
    this.ids += 1;
    return { status: 202, headers: { 'x-message-id': `standin-${this.ids}` } };
  }

  protected failure(status: number, code: string | undefined, message: string | undefined): unknown {
    return {
      errors: [{ message: message ?? `programmed failure ${status}`, field: code ?? null, help: null }],
    };
  }

  private error(status: number, message: string, field: string | null): Answer {
    return {
      status,
      body: {
        errors: [
          { message, field, help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html' },
        ],
      },
    };
  }
}
