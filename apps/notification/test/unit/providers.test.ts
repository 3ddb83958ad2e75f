// The provider clients against a fake fetch: the request each sends, and how each error answer is classified.
import { expect } from 'chai';
import { collapseId, FcmClient } from '../../src/providers/fcm.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { SendGridClient } from '../../src/providers/sendgrid.js';
import type { Notification } from '../../src/providers/provider.js';

const notification: Notification = {
  messageId: 'm-1',
  channelId: 'c-1',
  seq: 3,
  recipientId: 'u-1',
  address: 'token-or-address@example.com',
  senderName: 'Ada',
  preview: 'hi',
  createdAt: '2026-11-24T00:00:00.000Z',
};

interface Captured {
  url: string;
  init: RequestInit;
}

function fakeFetch(answer: () => Response, captured: Captured[] = []): typeof fetch {
  return (url: string | URL | Request, init?: RequestInit) => {
    captured.push({ url: url instanceof Request ? url.url : url.toString(), init: init ?? {} });
    return Promise.resolve(answer());
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected a ProviderError');
}

const signal = new AbortController().signal;

describe('FCM HTTP v1 client', () => {
  const client = (answer: () => Response, captured?: Captured[]) =>
    new FcmClient({
      baseUrl: 'http://fcm.test/',
      projectId: 'proj',
      accessToken: 'tok',
      fetch: fakeFetch(answer, captured),
    });

  it('posts one message per token with a bearer token and the collapse id', async () => {
    const captured: Captured[] = [];
    const name = await client(() => Response.json({ name: 'projects/proj/messages/1' }), captured).send(
      notification,
      signal,
    );
    expect(name).to.equal('projects/proj/messages/1');
    expect(captured[0]!.url).to.equal('http://fcm.test/v1/projects/proj/messages:send');
    expect((captured[0]!.init.headers as Record<string, string>)['authorization']).to.equal('Bearer tok');
    const body = JSON.parse(captured[0]!.init.body as string) as { message: Record<string, unknown> };
    expect(body.message['token']).to.equal(notification.address);
    expect(body.message['data']).to.deep.include({ messageId: 'm-1', seq: '3' });
    expect(body.message['android']).to.deep.include({ collapse_key: collapseId('m-1') });
  });

  const fcmError =
    (status: number, errorCode: string, headers: Record<string, string> = {}) =>
    () =>
      Response.json(
        {
          error: {
            code: status,
            message: 'x',
            status: 'X',
            details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }],
          },
        },
        { status, headers },
      );

  it('classifies FCM error answers', async () => {
    const unregistered = await failureOf(client(fcmError(404, 'UNREGISTERED')).send(notification, signal));
    expect([unregistered.failure, unregistered.code, unregistered.status]).to.deep.equal([
      'rejected',
      'UNREGISTERED',
      404,
    ]);
    const mismatch = await failureOf(client(fcmError(403, 'SENDER_ID_MISMATCH')).send(notification, signal));
    expect(mismatch.failure).to.equal('rejected');
    const auth = await failureOf(client(fcmError(401, 'THIRD_PARTY_AUTH_ERROR')).send(notification, signal));
    expect(auth.failure).to.equal('credentials');
    const quota = await failureOf(
      client(fcmError(429, 'QUOTA_EXCEEDED', { 'retry-after': '12' })).send(notification, signal),
    );
    expect([quota.failure, quota.retryAfterMs]).to.deep.equal(['retryable', 12_000]);
    const html = await failureOf(
      client(() => new Response('<html>bad gateway</html>', { status: 502 })).send(notification, signal),
    );
    expect(html.failure).to.equal('retryable');
  });

  it('reports a transport error as retryable and an abort as its reason', async () => {
    const broken = new FcmClient({
      baseUrl: 'http://fcm.test',
      projectId: 'p',
      accessToken: 't',
      fetch: () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } })),
    });
    const err = await failureOf(broken.send(notification, signal));
    expect(err.failure).to.equal('retryable');
    expect(err.message).to.contain('ECONNRESET');
    const controller = new AbortController();
    const reason = new Error('deadline');
    controller.abort(reason);
    const aborting = new FcmClient({
      baseUrl: 'http://fcm.test',
      projectId: 'p',
      accessToken: 't',
      fetch: () => Promise.reject(new DOMException('aborted', 'AbortError')),
    });
    try {
      await aborting.send(notification, controller.signal);
      expect.fail('should reject');
    } catch (e) {
      expect(e).to.equal(reason);
    }
  });
});

describe('SendGrid v3 client', () => {
  const client = (answer: () => Response, captured?: Captured[]) =>
    new SendGridClient({
      baseUrl: 'http://sg.test',
      apiKey: 'SG.k',
      from: { email: 'n@x.test', name: 'N' },
      fetch: fakeFetch(answer, captured),
    });

  it('posts a mail and accepts 202 with an empty body', async () => {
    const captured: Captured[] = [];
    const id = await client(
      () => new Response(null, { status: 202, headers: { 'x-message-id': 'abc' } }),
      captured,
    ).send(notification, signal);
    expect(id).to.equal('abc');
    expect(captured[0]!.url).to.equal('http://sg.test/v3/mail/send');
    const body = JSON.parse(captured[0]!.init.body as string) as {
      personalizations: { to: { email: string }[] }[];
      custom_args: Record<string, string>;
    };
    expect(body.personalizations[0]!.to[0]!.email).to.equal(notification.address);
    expect(body.custom_args).to.deep.equal({ messageId: 'm-1', channelId: 'c-1', recipientId: 'u-1' });
  });

  it('classifies SendGrid error answers and reads X-RateLimit-Reset', async () => {
    const invalid = await failureOf(
      client(() =>
        Response.json(
          {
            errors: [
              {
                message: 'Does not contain a valid address.',
                field: 'personalizations.0.to.0.email',
                help: null,
              },
            ],
          },
          { status: 400 },
        ),
      ).send(notification, signal),
    );
    expect([invalid.failure, invalid.code]).to.deep.equal(['rejected', 'personalizations.0.to.0.email']);
    const reset = String(Math.floor(Date.now() / 1000) + 30);
    const limited = await failureOf(
      client(() =>
        Response.json(
          { errors: [{ message: 'too many', field: null, help: null }] },
          { status: 429, headers: { 'x-ratelimit-reset': reset } },
        ),
      ).send(notification, signal),
    );
    expect(limited.failure).to.equal('retryable');
    expect(limited.retryAfterMs).to.be.within(28_000, 30_000);
    const key = await failureOf(
      client(() => Response.json({ errors: [{ message: 'bad key' }] }, { status: 401 })).send(
        notification,
        signal,
      ),
    );
    expect(key.failure).to.equal('credentials');
  });
});
