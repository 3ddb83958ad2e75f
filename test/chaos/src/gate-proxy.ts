// A TCP proxy that can stop letting new connections through: after `admit(n)`, the next `n` new
// connections are forwarded and every later one is accepted and held, its bytes never forwarded, as a
// network that drops a process's traffic mid-conversation. Connections open before keep working.
// The operator opens a connection per API request, so this cuts a reconcile off after `n` requests.
import { connect, createServer, type Server, type Socket } from 'node:net';

export class GateProxy {
  private admitted: number | undefined;
  private readonly sockets = new Set<Socket>();
  /** Connections forwarded and held so far. */
  forwarded = 0;
  held = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<GateProxy> {
    const ref: { proxy?: GateProxy } = {};
    const server = createServer((client) => ref.proxy!.accept(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ref.proxy = new GateProxy(server, (server.address() as { port: number }).port);
    return ref.proxy;
  }

  /** Lets `n` more new connections through, then holds the rest; undefined lets every one through. */
  admit(n: number | undefined): void {
    this.admitted = n;
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    if (this.admitted !== undefined) {
      if (this.admitted <= 0) {
        this.held++;
        client.pause();
        return;
      }
      this.admitted--;
    }
    this.forwarded++;
    const upstream = connect(target.port, target.host);
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
