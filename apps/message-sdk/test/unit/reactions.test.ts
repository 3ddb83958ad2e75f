// Reaction deltas applied to the reactions a client shows.
import { expect } from 'chai';
import { applyReaction, type ReactionEvent } from '../../src/index.js';

const delta = (userId: string, emoji: string, change: 'added' | 'removed', count: number): ReactionEvent => ({
  type: 'reaction.changed',
  channelId: 'ch',
  seq: 1,
  messageId: 'm1',
  emoji,
  userId,
  change,
  count,
  at: '2026-01-01T00:00:00.000Z',
});

describe('sdk: applyReaction', () => {
  it('adds and removes one user of one emoji, leaving the given map untouched', () => {
    const before = { '👍': ['a'] };
    const added = applyReaction(before, delta('b', '👍', 'added', 2));
    expect(added).to.deep.equal({ '👍': ['a', 'b'] });
    expect(before).to.deep.equal({ '👍': ['a'] });
    const other = applyReaction(added, delta('a', '🎉', 'added', 1));
    expect(other).to.deep.equal({ '👍': ['a', 'b'], '🎉': ['a'] });
    const removed = applyReaction(other, delta('a', '👍', 'removed', 1));
    expect(removed).to.deep.equal({ '👍': ['b'], '🎉': ['a'] });
  });

  it('is idempotent, and drops an emoji nobody has any more', () => {
    const once = applyReaction({}, delta('a', '👍', 'added', 1));
    expect(applyReaction(once, delta('a', '👍', 'added', 1))).to.deep.equal({ '👍': ['a'] });
    const gone = applyReaction(once, delta('a', '👍', 'removed', 0));
    expect(gone).to.deep.equal({});
    expect(applyReaction(gone, delta('a', '👍', 'removed', 0))).to.deep.equal({});
  });
});
