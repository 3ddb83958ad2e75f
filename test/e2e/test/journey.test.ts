// The user journey through the platform as `make dev` starts it (the operator and two message replicas
// as pods of the local cluster, reached through a NodePort): sign up, create and join a channel, chat over
// WebSockets through the SDK across both message replicas, an offline member gets a push through the
// local FCM stand-in, history pages back, and edits, deletes and reactions reach the other member.
import { expect } from 'chai';
import { call, eventually } from '@chatcluster/harness';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  ChatUser,
  createChannel,
  historyPage,
  joinChannel,
  logIn,
  pushes,
  registerDevice,
  signUp,
  type TestPlatform,
  type User,
} from '../src/index.js';
import type { MessageView, ReactionEvent } from '@chatcluster/message-sdk';
import { sharedPlatform } from './support/shared-platform.js';

describe('e2e: a chat journey through the platform as `make dev` starts it', function () {
  this.timeout(120_000);
  let platform: TestPlatform;
  let alice: User;
  let bob: User;
  let carol: User;
  let channel: string;
  let aliceChat: ChatUser;
  let bobChat: ChatUser | undefined;
  const closers: ChatUser[] = [];

  before(async function () {
    this.timeout(300_000);
    platform = await sharedPlatform();
  });
  after(() => {
    for (const c of closers) c.close();
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(await platform?.logTails());
  });

  const chatUser = (user: User): ChatUser => {
    const c = new ChatUser(platform.messageUrl, user.token);
    closers.push(c);
    return c;
  };

  it('signs up two users, creates a channel and both are members', async () => {
    alice = await signUp(platform.authUrl, 'alice');
    bob = await signUp(platform.authUrl, 'bob');
    carol = await signUp(platform.authUrl, 'carol');
    // Signing in again works too (the sign-up token is kept for the rest).
    const login = await logIn(platform.authUrl, alice);
    expect(login.status).to.equal(200);
    expect(login.body.user?.id).to.equal(alice.id);

    channel = await createChannel(platform.authUrl, alice, `journey-${randomBytes(3).toString('hex')}`);
    await joinChannel(platform.authUrl, bob, channel);
    await joinChannel(platform.authUrl, carol, channel);
    const members = await call<{ items: { userId: string; role: string }[] }>(
      platform.authUrl,
      'GET',
      `/api/v1/channels/${channel}/members`,
      { token: bob.token },
    );
    expect(members.status).to.equal(200);
    expect(members.body.items.map((m) => m.userId).sort()).to.deep.equal([alice.id, bob.id, carol.id].sort());
    const mine = await call<{ items: { id: string }[] }>(platform.authUrl, 'GET', '/api/v1/me/channels', {
      token: bob.token,
    });
    expect(mine.body.items.map((c) => c.id)).to.include(channel);
  });

  it('chats over WebSockets through the SDK across the two message replicas', async () => {
    const replicas = (await platform.replicas('message')).filter((r) => r.ready);
    expect(replicas, 'two ready message replicas').to.have.length(2);
    aliceChat = chatUser(alice);
    const aliceInstance = await aliceChat.open();
    // kube-proxy sends each connection to a replica at random: connect Bob until he is on the other one.
    let bobInstance = '';
    for (let attempt = 0; attempt < 16 && (!bobChat || bobInstance === aliceInstance); attempt++) {
      bobChat?.close();
      bobChat = chatUser(bob);
      bobInstance = await bobChat.open();
    }
    expect(bobInstance, 'Alice and Bob on different replicas').to.not.equal(aliceInstance);
    expect([aliceInstance, bobInstance].sort()).to.deep.equal(replicas.map((r) => r.name).sort());

    await aliceChat.subscribe(channel);
    await bobChat!.subscribe(channel);
    const first = await aliceChat.send(channel, 'hi Bob, from one replica');
    await bobChat!.waitForMessages(channel, "Alice's message at Bob", (m) => m.length === 1);
    const second = await bobChat!.send(channel, 'hi Alice, from the other');
    await aliceChat.waitForMessages(channel, "Bob's message at Alice", (m) => m.length === 2);
    expect(second.seq).to.be.greaterThan(first.seq);
    for (const user of [aliceChat, bobChat!]) {
      expect(user.received(channel).map((e) => [e.seq, e.message.body, e.message.senderId])).to.deep.equal([
        [first.seq, 'hi Bob, from one replica', alice.id],
        [second.seq, 'hi Alice, from the other', bob.id],
      ]);
    }
    // Both instances kept their connection the whole time.
    expect(aliceChat.instances).to.deep.equal([aliceInstance]);
    expect(bobChat!.instances).to.deep.equal([bobInstance]);
  });

  it('pushes a message to the offline member through the local FCM stand-in, once, and not to online ones', async () => {
    const sinkLog = platform.platform.parts.sink.logFile;
    const carolDevice = `fcm-carol-${randomBytes(8).toString('hex')}`;
    const bobDevice = `fcm-bob-${randomBytes(8).toString('hex')}`;
    await registerDevice(platform.notificationUrl, carol, carolDevice);
    await registerDevice(platform.notificationUrl, bob, bobDevice);

    // Carol never connected: offline. Bob is connected: online, so no push for him.
    const ack = await aliceChat.send(channel, 'are you there, Carol?');
    const push = await eventually(
      'the push to Carol',
      () => pushes(sinkLog).find((p) => p.token === carolDevice && p.data['messageId'] === ack.messageId),
      30_000,
    );
    expect(push.body).to.equal('are you there, Carol?');
    expect(push.data['channelId']).to.equal(channel);
    expect(push.data['seq']).to.equal(String(ack.seq));
    expect(push.title).to.include(alice.username);

    // Bob goes offline: the next message reaches his device too.
    bobChat!.close();
    await eventually(
      'a push to Bob once he is offline (no presence)',
      async () => {
        const later = await aliceChat.send(channel, `presence probe ${randomBytes(2).toString('hex')}`);
        const seen = await eventually(
          'the probe push to Carol',
          () =>
            pushes(sinkLog).some((p) => p.token === carolDevice && p.data['messageId'] === later.messageId),
          30_000,
        );
        return (
          seen &&
          pushes(sinkLog).some((p) => p.token === bobDevice && p.data['messageId'] === later.messageId)
        );
      },
      30_000,
      1_000,
    );
    // Give the notification service time to (wrongly) repeat anything, then count.
    await delay(3_000);
    const all = pushes(sinkLog);
    const toCarol = all.filter((p) => p.token === carolDevice).map((p) => p.data['messageId']);
    expect(new Set(toCarol).size, 'no push twice').to.equal(toCarol.length);
    expect(toCarol).to.include(ack.messageId);
    const toBob = all.filter((p) => p.token === bobDevice).map((p) => p.data['messageId']);
    expect(toBob, 'no push to Bob while he was online').to.not.include(ack.messageId);

    // Bob comes back on a fresh client and resumes the channel from the start: nothing missed.
    bobChat = chatUser(bob);
    await bobChat.open();
    await bobChat.subscribe(channel);
    const seqs = bobChat.received(channel).map((e) => e.seq);
    expect(seqs).to.deep.equal(aliceChat.received(channel).map((e) => e.seq));
  });

  it('pages back through the history', async () => {
    const sent: number[] = aliceChat.received(channel).map((e) => e.seq);
    for (let i = 0; i < 9; i++) {
      sent.push((await aliceChat.send(channel, `history a${i}`)).seq);
      sent.push((await bobChat!.send(channel, `history b${i}`)).seq);
    }
    await aliceChat.waitForMessages(channel, 'every message at Alice', (m) => m.length === sent.length);
    const seen: MessageView[] = [];
    let before: number | undefined;
    let pages = 0;
    for (;;) {
      const page = await historyPage(platform.messageUrl, alice, channel, {
        limit: 7,
        ...(before === undefined ? {} : { before }),
      });
      pages++;
      expect(page.source).to.equal('store');
      expect(page.items.length).to.be.at.most(7);
      seen.unshift(...page.items);
      if (page.prevBefore === null) break;
      before = page.prevBefore;
    }
    expect(pages).to.equal(Math.ceil(sent.length / 7));
    expect(seen.map((m) => m.seq)).to.deep.equal([...sent].sort((a, b) => a - b));
    const live = new Map(aliceChat.received(channel).map((e) => [e.seq, e.message.body]));
    for (const m of seen) expect(m.body).to.equal(live.get(m.seq));
    // Forward from a cursor: the oldest after it.
    const forward = await historyPage(platform.messageUrl, bob, channel, { after: sent[2]!, limit: 3 });
    expect(forward.items.map((m) => m.seq)).to.deep.equal(sent.slice(3, 6));
  });

  it('edits, deletes and reacts, and the other member sees each change', async () => {
    const target = aliceChat.received(channel).find((e) => e.message.senderId === alice.id)!.message;
    const doomed = aliceChat.received(channel).filter((e) => e.message.senderId === alice.id)[1]!.message;
    const path = (seq: number) => `/api/v1/messages/${channel}/${seq}`;

    const edited = await call<{ message: MessageView }>(platform.messageUrl, 'PATCH', path(target.seq), {
      token: alice.token,
      body: { body: 'hi Bob (edited)' },
    });
    expect(edited.status).to.equal(200);
    expect(edited.body.message.version).to.equal(target.version + 1);
    await bobChat!.waitForUpdate(
      channel,
      target.seq,
      'the edit at Bob',
      (u) => u.message.body === 'hi Bob (edited)',
    );

    const notSender = await call<{ error: { code: string } }>(
      platform.messageUrl,
      'PATCH',
      path(target.seq),
      {
        token: bob.token,
        body: { body: 'not mine' },
      },
    );
    expect(notSender.status).to.equal(403);
    expect(notSender.body.error.code).to.equal('MSG_NOT_SENDER');

    const reacted = await call<{ reaction: ReactionEvent; changed: boolean }>(
      platform.messageUrl,
      'PUT',
      `${path(target.seq)}/reactions/${encodeURIComponent('👍')}`,
      { token: bob.token },
    );
    expect(reacted.status).to.equal(200);
    expect(reacted.body.reaction).to.include({ emoji: '👍', userId: bob.id, change: 'added', count: 1 });
    // The delta reaches Alice, not the whole message.
    await aliceChat.waitForReaction(
      channel,
      target.seq,
      'the reaction at Alice',
      (r) => r.userId === bob.id && r.emoji === '👍' && r.change === 'added' && r.count === 1,
    );

    const deleted = await call<{ message: MessageView }>(platform.messageUrl, 'DELETE', path(doomed.seq), {
      token: alice.token,
    });
    expect(deleted.status).to.equal(200);
    const tombstone = await bobChat!.waitForUpdate(
      channel,
      doomed.seq,
      'the delete at Bob',
      (u) => u.message.deletedAt !== null,
    );
    expect(tombstone.type).to.equal('message.deleted');
    expect(tombstone.message.body).to.equal('');

    // History shows the current state of each.
    const page = await historyPage(platform.messageUrl, bob, channel, { limit: 200 });
    const bySeq = new Map(page.items.map((m) => [m.seq, m]));
    expect(bySeq.get(target.seq)!.body).to.equal('hi Bob (edited)');
    expect(bySeq.get(target.seq)!.editedAt).to.be.a('string');
    expect(bySeq.get(target.seq)!.reactions['👍']).to.deep.equal([bob.id]);
    expect(bySeq.get(doomed.seq)!.deletedAt).to.be.a('string');
    expect(bySeq.get(doomed.seq)!.body).to.equal('');
    // A deleted message can be neither edited nor reacted to.
    const late = await call<{ error: { code: string } }>(platform.messageUrl, 'PATCH', path(doomed.seq), {
      token: alice.token,
      body: { body: 'too late' },
    });
    expect(late.status).to.equal(409);
    expect(late.body.error.code).to.equal('MSG_ALREADY_DELETED');
  });
});
