import { expect } from 'chai';
import { withDelayedCall, withSendErrors } from '../../src/faults.js';
import type { CreateResult, NewMessage } from '../../src/store/message-store.js';

const item: NewMessage = { channelId: 'c', senderId: 'u', clientMessageId: 'm', body: 'hi' };

describe('injected faults', () => {
  it('refuses the configured share of sends with 503 MSG_FAULT_INJECTED, storing nothing', async () => {
    let stored = 0;
    const sends = {
      other: 'kept',
      send: (_item: NewMessage): Promise<CreateResult> => {
        stored += 1;
        return Promise.resolve({ ok: false, error: new Error('stored') });
      },
    };
    const draws = [0.1, 0.5, 0.29, 0.9];
    const faulty = withSendErrors(sends, 30, () => draws.shift()!);
    const codes = [];
    for (let i = 0; i < 4; i += 1) {
      const result = await faulty.send(item);
      codes.push(result.ok ? 'ok' : ((result.error as { code?: string }).code ?? 'passed'));
    }
    expect(codes).to.deep.equal(['MSG_FAULT_INJECTED', 'passed', 'MSG_FAULT_INJECTED', 'passed']);
    expect(stored).to.equal(2);
    expect(faulty.other).to.equal('kept');
    expect(withSendErrors(sends, 0)).to.equal(sends);
  });

  it('runs a delayed call later without holding its caller', async () => {
    const calls: string[] = [];
    const relay = { changed: (id: string) => calls.push(id) };
    const delayed = withDelayedCall(relay, 'changed', 50);
    delayed.changed('a');
    expect(calls).to.deep.equal([]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(calls).to.deep.equal(['a']);
    expect(withDelayedCall(relay, 'changed', 0)).to.equal(relay);
  });
});
