import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startRedis } from '../src/index.js';
import type { RedisServer } from '../src/index.js';
import { expectProcessGone } from './support.js';

describe('harness: redis', function () {
  const servers: RedisServer[] = [];

  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('serves SET and GET, then stops without a trace', async () => {
    const server = await startRedis();
    servers.push(server);
    expect(server.url).to.match(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const client = new Redis(server.url);
    try {
      expect(await client.set('greeting', 'hello')).to.equal('OK');
      expect(await client.get('greeting')).to.equal('hello');
    } finally {
      client.disconnect();
    }
    await server.stop();
    await expectProcessGone(server.pid, 'redis-server');
  });

  it('fails with redis-server named and its log when it cannot start', async () => {
    const failure = await startRedis({ config: { 'no-such-directive': 'x' } }).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(failure?.message).to.match(/^harness: redis-server exited \(code 1\) before it was ready/);
    expect(failure?.message).to.include('no-such-directive');
  });

  it('keeps data across a restart only with appendOnly', async () => {
    const durable = await startRedis({ appendOnly: true });
    const volatile = await startRedis();
    servers.push(durable, volatile);
    for (const server of [durable, volatile]) {
      const client = new Redis(server.url, { lazyConnect: true });
      await client.connect();
      await client.set('survives', 'yes');
      client.disconnect();
      await server.restart();
    }
    const read = async (url: string): Promise<string | null> => {
      const client = new Redis(url);
      try {
        return await client.get('survives');
      } finally {
        client.disconnect();
      }
    };
    expect(await read(durable.url)).to.equal('yes');
    expect(await read(volatile.url)).to.equal(null);
  });
});
