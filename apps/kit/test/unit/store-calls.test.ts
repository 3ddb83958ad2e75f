import { expect } from 'chai';
import { createMetrics, storeCallTimer } from '../../src/index.js';

describe('storeCallTimer', () => {
  it('records every call by operation, a failed one too, and passes results and errors through', async () => {
    const metrics = createMetrics('chat_storetest');
    const timed = storeCallTimer(metrics);
    expect(
      await timed('insert message', () => new Promise((r) => setTimeout(() => r('stored'), 30))),
    ).to.equal('stored');
    const refused = new Error('duplicate key');
    const failed = await timed('insert message', () => Promise.reject(refused)).catch((err: unknown) => err);
    expect(failed).to.equal(refused);
    await timed('find by seq', () => Promise.resolve(1));

    const text = await metrics.registry.metrics();
    expect(text).to.match(
      /^chat_storetest_store_call_duration_seconds_count\{operation="insert message"\} 2$/m,
    );
    expect(text).to.match(/^chat_storetest_store_call_duration_seconds_count\{operation="find by seq"\} 1$/m);
    // The 30 ms insert is above 25 ms and at most 50 ms; the instant failure is in every bucket.
    expect(text).to.match(
      /^chat_storetest_store_call_duration_seconds_bucket\{le="0.025",operation="insert message"\} 1$/m,
    );
    expect(text).to.match(
      /^chat_storetest_store_call_duration_seconds_bucket\{le="0.05",operation="insert message"\} 2$/m,
    );
  });

  it('just runs the call without metrics', async () => {
    expect(await storeCallTimer(undefined)('read', () => Promise.resolve('x'))).to.equal('x');
  });
});
