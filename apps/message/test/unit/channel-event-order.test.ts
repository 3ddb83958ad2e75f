import { expect } from 'chai';
import { ChannelEventOrder } from '../../src/bus/revocations.js';

describe('message: channel events by Pub/Sub and by the revocation stream', () => {
  const membership = (type: string, seq: number, userId = 'u') => ({ type, channelId: 'c', userId, seq });

  it('takes each event once, whichever path brings it first', () => {
    const order = new ChannelEventOrder();
    expect(order.isNew(membership('membership.removed', 5))).to.equal(true);
    expect(order.isNew(membership('membership.removed', 5)), 'the same removal from the stream').to.equal(
      false,
    );
    expect(order.isNew({ type: 'channel.deleted', channelId: 'c', seq: 9 })).to.equal(true);
    expect(order.isNew({ type: 'channel.deleted', channelId: 'c', seq: 9 })).to.equal(false);
  });

  it('drops a removal that arrives after a later re-join of the same member only', () => {
    const order = new ChannelEventOrder();
    expect(order.isNew(membership('membership.added', 7))).to.equal(true);
    expect(order.isNew(membership('membership.removed', 6)), 'older than the re-join').to.equal(false);
    expect(order.isNew(membership('membership.removed', 6, 'other')), 'another member').to.equal(true);
  });

  it('bounds what it remembers', () => {
    const order = new ChannelEventOrder(10);
    for (let i = 0; i < 100; i++) order.isNew(membership('membership.added', i, `u${i}`));
    expect((order as unknown as { maxKeys: number }).maxKeys).to.equal(10);
    expect(order.isNew(membership('membership.added', 0, 'u0')), 'forgotten, so taken again').to.equal(true);
  });
});
