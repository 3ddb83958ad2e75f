// A /metrics endpoint standing in for the message service until it exists: the HTTP RED counter of
// docs/architecture.md, advancing in real time at a rate the test sets. Not a model of the service,
// only of the series the SLO reads.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export class StandInExporter {
  private ok = 0;
  private failed = 0;
  private okPerSecond = 0;
  private failedPerSecond = 0;
  private since = Date.now();
  private readonly server = createServer((request, response) => {
    if (request.url !== '/metrics') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.exposition());
  });

  static async start(): Promise<StandInExporter> {
    const exporter = new StandInExporter();
    await new Promise<void>((resolve) => exporter.server.listen(0, '127.0.0.1', resolve));
    return exporter;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** From now on, count this many successful and failed requests per second. */
  setTraffic(okPerSecond: number, failedPerSecond: number): void {
    this.advance();
    this.okPerSecond = okPerSecond;
    this.failedPerSecond = failedPerSecond;
  }

  private advance(): void {
    const seconds = (Date.now() - this.since) / 1000;
    this.ok += this.okPerSecond * seconds;
    this.failed += this.failedPerSecond * seconds;
    this.since = Date.now();
  }

  private exposition(): string {
    this.advance();
    return [
      '# HELP chat_message_http_requests_total HTTP requests by route, method and status code.',
      '# TYPE chat_message_http_requests_total counter',
      `chat_message_http_requests_total{route="/api/v1/messages",method="POST",code="201"} ${Math.floor(this.ok)}`,
      `chat_message_http_requests_total{route="/api/v1/messages",method="POST",code="503"} ${Math.floor(this.failed)}`,
      '',
    ].join('\n');
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
