// The store guard's half-open trial: its own ping, fired as the breaker half-opens, decides whether
// the breaker closes (fast), opens again (slow or failing); no request has to be the trial. And what
// counts as a duplicate-key answer.
import { once } from 'node:events';
import { expect } from 'chai';
import { createStoreGuard, isDuplicateKey } from '../../src/store/guard.js';

describe('message: store guard trial', () => {
  it('closes the breaker on a fast ping and opens it again on a slow one, without any request', async () => {
    let pingMs = 50;
    let pings = 0;
    const guard = createStoreGuard({
      name: 'mongodb',
      timeoutMs: 1_000,
      resetMs: 20,
      slowCallMs: 30,
      trial: async () => {
        pings++;
        await new Promise((r) => setTimeout(r, pingMs));
      },
    });
    try {
      guard.breaker.circuit.open();
      await once(guard.breaker.circuit, 'halfOpen');
      await once(guard.breaker.circuit, 'open');
      expect(pings, 'a slow ping fails the trial').to.equal(1);
      pingMs = 0;
      await once(guard.breaker.circuit, 'close');
      expect(pings).to.equal(2);
      expect(await guard.run('read', () => Promise.resolve('doc'))).to.equal('doc');
    } finally {
      guard.breaker.shutdown();
    }
  });
});

describe('message: duplicate-key errors', () => {
  it('are errors with code 11000 or only duplicate write errors, never a bulk write with none', () => {
    expect(isDuplicateKey({ code: 11000 })).to.equal(true);
    expect(isDuplicateKey({ writeErrors: [{ code: 11000 }, { code: 11000 }] })).to.equal(true);
    expect(isDuplicateKey({ writeErrors: [{ code: 11000 }, { code: 6 }] })).to.equal(false);
    // A bulk insert cut off by the network: nothing says any document was stored.
    expect(isDuplicateKey({ writeErrors: [] })).to.equal(false);
  });
});
