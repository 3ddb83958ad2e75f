// Free TCP ports on loopback, so parallel suites and CI jobs never collide on fixed ports.
import { createServer } from 'node:net';

// Ports already handed out by this process: the OS may offer a just-closed port again before the
// component that was given it has bound it.
const handedOut = new Set<number>();

function askOsForPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('harness: could not read the port of a probe listener'));
      });
    });
  });
}

/** A TCP port that is free on 127.0.0.1 right now and not yet handed out by this process. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await askOsForPort(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`harness: no free port found on ${host} after 50 attempts`);
}
