// Who gets what, with an in-memory directory and settings.
import { expect } from 'chai';
import type { Member, MemberDirectory } from '../../src/directory/members.js';
import { Planner } from '../../src/delivery/planner.js';
import type { MessageCreated } from '../../src/events.js';
import type { RecipientSettings } from '../../src/settings/store.js';

const ids = {
  channel: '0b7e3f5a-1c2d-4e3f-8a9b-0c1d2e3f4a5b',
  sender: '10000000-0000-4000-8000-000000000000',
  a: '20000000-0000-4000-8000-000000000000',
  b: '30000000-0000-4000-8000-000000000000',
};

const member = (userId: string): Member => ({
  userId,
  displayName: `name ${userId.slice(0, 1)}`,
  email: `${userId.slice(0, 1)}@auth.test`,
});
const settings = (over: Partial<RecipientSettings> = {}): RecipientSettings => ({
  mode: 'auto',
  email: null,
  mutedHere: false,
  devices: [],
  ...over,
});
const device = (token: string) => ({
  id: `id-${token}`,
  token,
  platform: 'android' as const,
  registeredAt: '',
});

function planner(members: Member[], byUser: Record<string, RecipientSettings>, online: string[] = []) {
  const directory: MemberDirectory = { members: () => Promise.resolve(members), close: () => undefined };
  return new Planner(directory, {
    online: (userIds) => Promise.resolve(new Set(userIds.filter((u) => online.includes(u)))),
    forRecipients: (userIds) => Promise.resolve(new Map(userIds.map((u) => [u, byUser[u] ?? settings()]))),
  });
}

const event: MessageCreated = {
  type: 'message.created',
  messageId: 'msg-1',
  channelId: ids.channel,
  seq: 1,
  senderId: ids.sender,
  preview: 'p',
  createdAt: '2026-11-24T00:00:00Z',
};

describe('delivery planning', () => {
  it('pushes to every device in auto mode, else mails the address from auth', async () => {
    const plan = await planner([member(ids.sender), member(ids.a), member(ids.b)], {
      [ids.a]: settings({ devices: [device('t1'), device('t2')] }),
    }).plan(event);
    expect(plan.kind).to.equal('deliver');
    if (plan.kind !== 'deliver') return;
    expect(plan.senderName).to.equal('name 1');
    expect(
      plan.deliveries.map((d) => `${d.provider} ${d.recipientId.slice(0, 1)} ${d.address}`),
    ).to.deep.equal(['fcm 2 t1', 'fcm 2 t2', 'sendgrid 3 3@auth.test']);
    expect(plan.deliveries[0]!.key).to.equal(
      `chat:notify:dedupe:msg-1@${Date.parse(event.createdAt)}:${ids.a}:fcm:id-t1`,
    );
  });

  it('keys deliveries by message id and creation time: a seq reused after a restore is a new message', async () => {
    const keysOf = async (e: MessageCreated) => {
      const plan = await planner([member(ids.sender), member(ids.a)], {
        [ids.a]: settings({ devices: [device('t1')] }),
      }).plan(e);
      return plan.kind === 'deliver' ? plan.deliveries.map((d) => d.key) : [];
    };
    const original = await keysOf(event);
    // The same message published again (sweeper, replay), its time written with another offset.
    const republished = await keysOf({ ...event, createdAt: '2026-11-24T01:00:00+01:00' });
    // After a restore lowered the seqs, a new message takes seq 1 again: same derived id, later time.
    const reused = await keysOf({ ...event, createdAt: '2026-11-25T09:30:00.123Z' });
    expect(original).to.have.length(1);
    expect(republished).to.deep.equal(original);
    expect(reused).to.have.length(1);
    expect(reused[0]).to.not.equal(original[0]);
  });

  it('skips the online, the muted, mode none and push without a device', async () => {
    const plan = await planner(
      [member(ids.sender), member(ids.a), member(ids.b)],
      { [ids.b]: settings({ mode: 'push' }) },
      [ids.a],
    ).plan(event);
    expect(plan.kind === 'deliver' && plan.deliveries).to.deep.equal([]);
    expect(plan.kind === 'deliver' && plan.skipped).to.deep.equal(['online', 'no_device']);
    const muted = await planner([member(ids.sender), member(ids.a), member(ids.b)], {
      [ids.a]: settings({ mutedHere: true }),
      [ids.b]: settings({ mode: 'none' }),
    }).plan(event);
    expect(muted.kind === 'deliver' && muted.skipped).to.deep.equal(['muted', 'preference_none']);
  });

  it('uses the e-mail override, and reports an unknown sender and a gone channel', async () => {
    const plan = await planner([member(ids.sender), member(ids.a)], {
      [ids.a]: settings({ mode: 'email', email: 'x@y.test' }),
    }).plan(event);
    expect(plan.kind === 'deliver' && plan.deliveries.map((d) => d.address)).to.deep.equal(['x@y.test']);
    expect(await planner([member(ids.a)], {}).plan(event)).to.deep.equal({ kind: 'unknown_sender' });
    const gone = await planner([], {}).plan(event);
    expect(gone.kind === 'deliver' && gone.skipped).to.deep.equal(['channel_gone']);
  });

  it('plans only the replayed delivery', async () => {
    const replay = {
      ...event,
      replay: { of: '1-0', recipient: ids.a, provider: 'fcm' as const, target: 'id-t2', count: 1 },
    };
    const plan = await planner([member(ids.sender), member(ids.a), member(ids.b)], {
      [ids.a]: settings({ devices: [device('t1'), device('t2')] }),
    }).plan(replay);
    expect(plan.kind === 'deliver' && plan.deliveries.map((d) => d.address)).to.deep.equal(['t2']);
    const gone = await planner([member(ids.sender), member(ids.a)], {}).plan(replay);
    expect(gone.kind === 'deliver' && gone.skipped).to.deep.equal(['replay_target_gone']);
  });
});
