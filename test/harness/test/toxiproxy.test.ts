import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Socket } from 'node:net';
import { startRedis, startToxiproxy } from '../src/index.js';
import type { RedisServer, ToxiproxyProxy, ToxiproxyServer } from '../src/index.js';
import { expectProcessGone, timed } from './support.js';

/** Resolves the server's first reply to PING over a fresh connection, or the connection error. */
function rawPing(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const finish = (result: string): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(2_000, () => finish('timeout'));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.once('close', () => finish('closed'));
    socket.once('data', (chunk: Buffer) => finish(chunk.toString('utf8').trim()));
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}

describe('harness: toxiproxy', function () {
  let redis: RedisServer | undefined;
  let toxiproxy: ToxiproxyServer | undefined;
  let proxy: ToxiproxyProxy;
  let client: Redis | undefined;

  before(async () => {
    [redis, toxiproxy] = await Promise.all([startRedis(), startToxiproxy()]);
    proxy = await toxiproxy.createProxy('redis', `127.0.0.1:${redis.port}`);
    client = new Redis({ host: proxy.host, port: proxy.port });
    await client.ping();
  });
  after(async () => {
    client?.disconnect();
    await Promise.all([toxiproxy?.stop(), redis?.stop()]);
  });

  it('proxies Redis on a loopback port', () => {
    expect(proxy.host).to.equal('127.0.0.1');
    expect(proxy.port).to.not.equal(redis!.port);
    expect(proxy.upstream).to.equal(`127.0.0.1:${redis!.port}`);
  });

  it('adds and removes latency', async () => {
    expect(await timed(() => client!.ping())).to.be.below(100);
    const toxic = await toxiproxy!.addToxic('redis', {
      type: 'latency',
      attributes: { latency: 300, jitter: 0 },
    });
    expect(toxic.name).to.equal('latency_downstream');
    expect(await timed(() => client!.ping())).to.be.at.least(300);
    await toxiproxy!.removeToxic('redis', toxic.name);
    expect(await timed(() => client!.ping())).to.be.below(100);
  });

  it('takes the upstream away while disabled', async () => {
    await toxiproxy!.disableProxy('redis');
    expect(await rawPing(proxy.host, proxy.port)).to.equal('ECONNREFUSED');
    await toxiproxy!.enableProxy('redis');
    expect(await rawPing(proxy.host, proxy.port)).to.equal('+PONG');
  });

  it('stops the server process', async () => {
    const pid = toxiproxy!.pid;
    await toxiproxy!.stop();
    toxiproxy = undefined;
    await expectProcessGone(pid, 'toxiproxy-server');
  });
});
