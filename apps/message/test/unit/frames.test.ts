import { expect } from 'chai';
import { maxAckPositions } from '@chatcluster/message-sdk';
import { parseFrame } from '../../src/ws/frames.js';

const channelId = '3f0b8a9e-8d2c-4c6f-9a51-6f1d2b7e4c10';

describe('message: client frame parsing', () => {
  it('accepts every valid frame type', () => {
    const frames = [
      { type: 'subscribe', channelId, lastSeq: 5, since: '2025-01-01T00:00:00.000Z' },
      { type: 'unsubscribe', channelId },
      { type: 'send', channelId, clientMessageId: 'abc-1:2.3_4', body: 'hi' },
      { type: 'ack', channelId, seq: 3 },
      { type: 'ack', acks: [{ channelId, seq: 3 }] },
      { type: 'ping' },
    ];
    for (const f of frames)
      expect(parseFrame(JSON.stringify(f), false)).to.deep.equal({ ok: true, frame: f });
  });

  it('takes a coalesced ack of up to maxAckPositions channels, and refuses an empty or larger one', () => {
    const positions = (n: number) => Array.from({ length: n }, (_, seq) => ({ channelId, seq }));
    const parsed = (n: number) => parseFrame(JSON.stringify({ type: 'ack', acks: positions(n) }), false);
    expect(parsed(maxAckPositions)).to.deep.equal({
      ok: true,
      frame: { type: 'ack', acks: positions(maxAckPositions) },
    });
    expect(parsed(0)).to.include({ ok: false, code: 'VALIDATION_FAILED' });
    expect(parsed(maxAckPositions + 1)).to.include({ ok: false, code: 'VALIDATION_FAILED' });
    const badChannel = { type: 'ack', acks: [{ channelId: 'not-a-uuid', seq: 1 }] };
    expect(parseFrame(JSON.stringify(badChannel), false)).to.include({
      ok: false,
      code: 'VALIDATION_FAILED',
    });
  });

  it('names what is wrong, never throws', () => {
    const code = (data: string, binary = false) => {
      const r = parseFrame(data, binary);
      return r.ok ? 'ok' : r.code;
    };
    expect(code('{', false)).to.equal('MALFORMED_FRAME');
    expect(code('{}', true)).to.equal('MALFORMED_FRAME');
    expect(code('null')).to.equal('MALFORMED_FRAME');
    expect(code('{"type":"__proto__"}')).to.equal('UNKNOWN_FRAME');
    expect(code('{"type":"toString"}')).to.equal('UNKNOWN_FRAME');
    expect(
      code(JSON.stringify({ type: 'send', channelId, clientMessageId: 'x', body: 'y'.repeat(4001) })),
    ).to.equal('VALIDATION_FAILED');
    expect(code(JSON.stringify({ type: 'send', channelId, clientMessageId: '~hole:3', body: 'y' }))).to.equal(
      'VALIDATION_FAILED',
    );
    const r = parseFrame(
      JSON.stringify({ type: 'send', channelId, clientMessageId: 'ref-1', body: '' }),
      false,
    );
    expect(r).to.include({ ok: false, code: 'VALIDATION_FAILED', ref: 'ref-1' });
  });
});
