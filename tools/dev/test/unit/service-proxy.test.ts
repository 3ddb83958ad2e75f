import { expect } from 'chai';
import { createServer, connect, type Server } from 'node:net';
import { ServiceProxies } from '../../src/runner/service-proxy.js';
import type { ServiceObject } from '../../src/runner/types.js';

const service = (name: string, port: number): ServiceObject => ({
  metadata: { name, namespace: 'ns' },
  spec: { selector: { app: name }, ports: [{ name: 'http', port, targetPort: 'http' }] },
});

/** Connects through a proxy port and reads what the upstream writes; '' when refused or reset. */
const readThrough = (port: number): Promise<string> =>
  new Promise((resolve) => {
    let text = '';
    const socket = connect({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(text));
  });

describe('dev runner: Service proxies', () => {
  let proxies: ServiceProxies;
  let upstream: Server;
  let upstreamPort: number;

  beforeEach(async () => {
    proxies = new ServiceProxies();
    upstream = createServer((socket) => socket.end('hello from auth'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamPort = (upstream.address() as { port: number }).port;
  });
  afterEach(async () => {
    await proxies.stop();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('reserves a port for a Service named before it exists, refuses until it appears, then forwards', async () => {
    await proxies.reserve([{ name: 'auth', namespace: 'ns', port: 8081 }]);
    const reserved = proxies.url('ns', 'auth', 8081)!;
    const port = Number(new URL(reserved).port);
    expect(await readThrough(port)).to.equal('');
    proxies.setEndpointSource(() => [
      {
        name: 'auth-1',
        labels: { app: 'auth' },
        localPort: (p) => (p === 'http' ? upstreamPort : undefined),
      },
    ]);
    await proxies.sync([service('auth', 8081)]);
    expect(proxies.url('ns', 'auth')).to.equal(reserved);
    expect(await readThrough(port)).to.equal('hello from auth');
  });

  it('keeps a reservation across syncs that do not have the Service, and drops it once it was declared and deleted', async () => {
    await proxies.reserve([{ name: 'auth', namespace: 'ns', port: 8081 }]);
    await proxies.sync([]);
    expect(proxies.url('ns', 'auth', 8081)).to.be.a('string');
    await proxies.sync([service('auth', 8081)]);
    await proxies.sync([]);
    expect(proxies.url('ns', 'auth', 8081)).to.equal(undefined);
  });

  it('opens one listener when a reservation and the sync that declares the Service run at the same time', async () => {
    const servers = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
    const before = servers();
    // What a replica's environment got when its reservation returned must stay the Service's address.
    const [givenToReplica] = await Promise.all([
      proxies
        .reserve([{ name: 'auth', namespace: 'ns', port: 8081 }])
        .then(() => proxies.url('ns', 'auth', 8081)),
      proxies.sync([service('auth', 8081)]),
    ]);
    expect(proxies.url('ns', 'auth')).to.equal(givenToReplica);
    expect(proxies.addresses()).to.have.length(1);
    expect(servers() - before, 'listening sockets opened').to.equal(1);
  });
});
