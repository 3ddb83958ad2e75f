// `make dev` has no FCM or SendGrid account: this sink answers both APIs with success (FCM
// `200 {name}`, SendGrid `202`) and appends every notification it accepted to a log file, so a
// developer sees what would have been sent. A development stand-in only; tests use their own validating
// stand-ins. The failure tests (test/chaos) switch a provider to answering 500 or to hanging.
import { appendFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProviderName = 'fcm' | 'sendgrid';

/** How a provider is answered: `ok` (the default), `error` (500 in the provider's error shape), or
 * `hang` (no answer; held connections are cut when the provider is set back to `ok`). */
export type ProviderFault = 'ok' | 'error' | 'hang';

export interface ProviderSink {
  url: string;
  /** One JSON line per accepted notification: `{at, provider, body}` (body as sent, a JSON string). */
  logFile: string;
  setFault(provider: ProviderName, fault: ProviderFault): void;
  /** Requests per provider by how they were answered. */
  readonly calls: Record<ProviderName, Record<ProviderFault, number>>;
  stop(): Promise<void>;
}

export async function startProviderSink(logFile: string, host = '127.0.0.1'): Promise<ProviderSink> {
  let ids = 0;
  const faults: Record<ProviderName, ProviderFault> = { fcm: 'ok', sendgrid: 'ok' };
  const calls: ProviderSink['calls'] = {
    fcm: { ok: 0, error: 0, hang: 0 },
    sendgrid: { ok: 0, error: 0, hang: 0 },
  };
  const held: Record<ProviderName, Set<ServerResponse>> = { fcm: new Set(), sendgrid: new Set() };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const provider: ProviderName | null = path.endsWith('/messages:send')
        ? 'fcm'
        : path === '/v3/mail/send'
          ? 'sendgrid'
          : null;
      if (req.method !== 'POST' || !provider) {
        res.writeHead(404).end();
        return;
      }
      const fault = faults[provider];
      calls[provider][fault]++;
      if (fault === 'hang') {
        held[provider].add(res);
        res.on('close', () => held[provider].delete(res));
        return;
      }
      if (fault === 'error') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          provider === 'fcm'
            ? JSON.stringify({ error: { code: 500, message: 'Internal error', status: 'INTERNAL' } })
            : JSON.stringify({ errors: [{ message: 'internal error', field: null, help: null }] }),
        );
        return;
      }
      appendFileSync(
        logFile,
        `${JSON.stringify({ at: new Date().toISOString(), provider, body: Buffer.concat(chunks).toString('utf8') })}\n`,
      );
      ids += 1;
      if (provider === 'fcm') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ name: `projects/chatcluster-dev/messages/${ids}` }));
      } else {
        res.writeHead(202, { 'x-message-id': `dev-${ids}` }).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const cutHeld = (provider: ProviderName): void => {
    for (const res of held[provider]) res.destroy();
    held[provider].clear();
  };
  return {
    url: `http://${host}:${port}`,
    logFile,
    calls,
    setFault(provider, fault) {
      faults[provider] = fault;
      if (fault !== 'hang') cutHeld(provider);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        cutHeld('fcm');
        cutHeld('sendgrid');
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
