import { expect } from 'chai';
import type { ChannelMember } from '@chatcluster/auth-client';
import { AuthMemberDirectory } from '../../src/directory/members.js';

describe('channel members from auth', () => {
  it('asks auth once per channel per period, sharing a lookup in flight', async () => {
    let now = 0;
    let calls = 0;
    const client = {
      listMembers: async (): Promise<ChannelMember[]> => {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        return [{ userId: 'u', username: 'u', displayName: 'U', email: 'u@x.test', role: 'member' }];
      },
      close: () => undefined,
    };
    const directory = new AuthMemberDirectory(client, { ttlMs: 1000, now: () => now });
    const [a, b] = await Promise.all([directory.members('c'), directory.members('c')]);
    expect(a).to.deep.equal([{ userId: 'u', displayName: 'U', email: 'u@x.test' }]);
    expect(b).to.equal(a);
    now = 999;
    await directory.members('c');
    expect(calls).to.equal(1);
    now = 1000;
    await directory.members('c');
    expect(calls).to.equal(2);
  });

  it('does not cache a failed lookup', async () => {
    let fail = true;
    const client = {
      listMembers: (): Promise<ChannelMember[]> =>
        fail ? Promise.reject(new Error('auth down')) : Promise.resolve([]),
      close: () => undefined,
    };
    const directory = new AuthMemberDirectory(client, { ttlMs: 60_000 });
    await directory.members('c').then(
      () => expect.fail('should reject'),
      (err: Error) => expect(err.message).to.equal('auth down'),
    );
    fail = false;
    expect(await directory.members('c')).to.deep.equal([]);
  });
});
