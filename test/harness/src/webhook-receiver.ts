// A local HTTP endpoint standing in for Alertmanager's webhook receivers (a pager, a chat): records every
// notification by path, so a test can see who was notified of what, firing or resolved.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookNotification {
  /** "/pager" or "/chat": the receiver the webhook URL belongs to. */
  path: string;
  status: string;
  alerts: { status: string; labels: Record<string, string> }[];
}

export class WebhookReceiver {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly notifications: WebhookNotification[],
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const notifications: WebhookNotification[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<WebhookNotification, 'path'>;
        notifications.push({ path: request.url ?? '', status: body.status, alerts: body.alerts });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new WebhookReceiver(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      notifications,
    );
  }

  /** Alerts (labels) notified to a path so far; only those with `status` ("firing", "resolved") if given. */
  alertsAt(path: string, status?: string): Record<string, string>[] {
    return this.notifications
      .filter((n) => n.path === path)
      .flatMap((n) =>
        n.alerts.filter((a) => status === undefined || a.status === status).map((a) => a.labels),
      );
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
