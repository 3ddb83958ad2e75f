// `make dev` has no FCM or SendGrid account: this sink answers both APIs with success (FCM
// `200 {name}`, SendGrid `202`) and appends every notification to a log file, so a developer sees
// what would have been sent. A development stand-in only; tests use their own validating stand-ins.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProviderSink {
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

export async function startProviderSink(logFile: string): Promise<ProviderSink> {
  let ids = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const provider = path.endsWith('/messages:send') ? 'fcm' : path === '/v3/mail/send' ? 'sendgrid' : null;
      if (req.method !== 'POST' || !provider) {
        res.writeHead(404).end();
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    logFile,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
