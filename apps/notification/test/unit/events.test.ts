import { expect } from 'chai';
import { fieldsToRecord, parseEntry } from '../../src/events.js';

const valid = {
  type: 'message.created',
  messageId: '6f1c2b1e-4a56-4c1e-9f1a-2d3b4c5d6e7f',
  channelId: '0b7e3f5a-1c2d-4e3f-8a9b-0c1d2e3f4a5b',
  seq: '42',
  senderId: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
  preview: 'hello',
  createdAt: '2026-11-24T01:02:03.456Z',
};

describe('notification entries', () => {
  it('parses a message.created entry', () => {
    const parsed = parseEntry(valid);
    expect(parsed).to.deep.equal({ ok: true, event: { ...valid, seq: 42 } });
  });

  it('names every problem of a malformed entry', () => {
    const parsed = parseEntry({ ...valid, channelId: 'nope', seq: '-1', createdAt: 'yesterday' });
    expect(parsed.ok).to.equal(false);
    if (parsed.ok) return;
    expect(parsed.reason).to.equal('malformed');
    expect(parsed.detail).to.contain('channelId').and.to.contain('seq').and.to.contain('createdAt');
  });

  it('refuses ids that would escape a Redis key', () => {
    const parsed = parseEntry({ ...valid, messageId: 'a:b*c' });
    expect(parsed.ok).to.equal(false);
  });

  it('calls other types unsupported and a missing type malformed', () => {
    expect(parseEntry({ ...valid, type: 'message.deleted' })).to.deep.include({
      ok: false,
      reason: 'unsupported_type',
    });
    expect(parseEntry({})).to.deep.include({ ok: false, reason: 'malformed' });
  });

  it('reads the replay fields of a replayed dead letter, all or none', () => {
    const parsed = parseEntry({
      ...valid,
      replayOf: '1-0',
      replayRecipient: valid.senderId,
      replayProvider: 'sendgrid',
      replayTarget: 'email',
      replayCount: '2',
    });
    expect(parsed.ok && parsed.event.replay).to.deep.equal({
      of: '1-0',
      recipient: valid.senderId,
      provider: 'sendgrid',
      target: 'email',
      count: 2,
    });
    expect(parseEntry({ ...valid, replayOf: '1-0' }).ok).to.equal(false);
  });

  it('turns a flat field list into a record, first value winning', () => {
    expect(fieldsToRecord(['a', '1', 'b', '2', 'a', '3'])).to.deep.equal({ a: '1', b: '2' });
  });
});
