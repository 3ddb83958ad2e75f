// Reactions as their own documents on FerretDB, without a lock: 100 users reacting at once across
// two instances are all kept and the message document is never written; the caps per user and per
// message refuse the excess with stable codes; invalid keys are refused; subscribers get deltas.
import { expect } from 'chai';
import type { ReactionEvent } from '@chatcluster/message-sdk';
import { call, channelWith, eventually, signup, type TestUser } from '../support/api.js';
import { RecordingClient } from '../support/clients.js';
import { startStack, type Stack } from '../support/stack.js';

interface ErrorBody {
  error: { code: string; details?: { limit?: number } };
}
interface ReactionAnswer {
  reaction: ReactionEvent;
  changed: boolean;
}
interface MessageAnswer {
  message: { id: string; seq: number; version: number; reactions: Record<string, string[]> };
}

/** 80 distinct single-code-point emoji (Unicode's emoticons block). */
const emoticons = Array.from({ length: 80 }, (_, i) => String.fromCodePoint(0x1f600 + i));

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

describe('message: reactions', function () {
  let stack: Stack;
  let alice: TestUser;
  const clients: RecordingClient[] = [];

  before(async () => {
    stack = await startStack({
      env: {
        SEND_BURST: '10000',
        SEND_RATE_PER_MIN: '100000',
        // 100 requests at once on the 2 shared cores can take FerretDB past the 1 s that counts as a
        // slow call; shedding them is the breaker's job (degradation.test.ts), not what is tested here.
        MONGO_SLOW_CALL_MS: '5000',
      },
    });
    alice = await signup(stack.auth.url, 'alice');
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  after(async () => {
    await stack?.stop();
  });

  const url = (i: number) => stack.instances[i % stack.instances.length]!.url;
  const path = (channel: string, seq: number, emoji?: string) =>
    `/api/v1/messages/${channel}/${seq}${emoji === undefined ? '' : `/reactions/${encodeURIComponent(emoji)}`}`;
  const post = async (channel: string, body: string) => {
    const sent = await call<MessageAnswer>(url(0), 'POST', '/api/v1/messages', {
      body: { channelId: channel, clientMessageId: `m-${Date.now()}-${Math.random()}`, body },
      token: alice.token,
    });
    expect(sent.status).to.equal(201);
    return sent.body.message;
  };
  const react = (
    user: TestUser,
    channel: string,
    seq: number,
    emoji: string,
    method: 'PUT' | 'DELETE' = 'PUT',
    i = 0,
  ) => call<ReactionAnswer & ErrorBody>(url(i), method, path(channel, seq, emoji), { token: user.token });

  it('keeps all of 100 concurrent reactions by 100 users, without writing the message, and broadcasts each delta', async () => {
    const users = await inBatches(
      Array.from({ length: 100 }, (_, i) => i),
      10,
      (i) => signup(stack.auth.url, `r${i}`),
    );
    const channel = await channelWith(stack.auth.url, alice, users);
    const message = await post(channel, 'react to me');
    const watchers = [0, 1].map((i) => {
      const c = new RecordingClient([url(i)], alice.token);
      clients.push(c);
      return c;
    });
    const deltas: ReactionEvent[][] = [[], []];
    watchers.forEach((c, i) => c.client.on('reaction', (e) => deltas[i]!.push(e)));
    await Promise.all(watchers.map((c) => c.open()));
    await Promise.all(watchers.map((c) => c.subscribed(channel)));

    // Half 👍, half 🎉, from both instances at once.
    const emojiOf = (i: number) => (i % 2 === 0 ? '👍' : '🎉');
    const answers = await Promise.all(
      users.map((u, i) => react(u, channel, message.seq, emojiOf(i), 'PUT', i)),
    );
    expect(
      answers.filter((a) => a.status !== 200).map((a) => a.body),
      'refused',
    ).to.deep.equal([]);
    expect(answers.every((a) => a.body.changed)).to.equal(true);

    const read = await call<MessageAnswer>(url(1), 'GET', path(channel, message.seq), { token: alice.token });
    for (const emoji of ['👍', '🎉']) {
      const expected = users.filter((_, i) => emojiOf(i) === emoji).map((u) => u.id);
      expect([...read.body.message.reactions[emoji]!].sort()).to.deep.equal(expected.sort());
    }
    // No lock and no message write: reactions are documents of their own.
    expect(read.body.message.version).to.equal(1);
    const history = await call<{ items: MessageAnswer['message'][] }>(
      url(0),
      'GET',
      `/api/v1/messages?channelId=${channel}`,
      { token: alice.token },
    );
    expect(history.body.items[0]!.reactions['👍']).to.have.length(50);

    // Every subscriber, on either instance, gets each delta once: the delta, not the message.
    for (const got of deltas) {
      await eventually(
        () => got.length,
        (n) => n >= 100,
      );
      expect(got).to.have.length(100);
      expect(new Set(got.map((e) => e.userId)).size).to.equal(100);
      expect(Math.max(...got.filter((e) => e.emoji === '👍').map((e) => e.count))).to.equal(50);
    }
    const first = deltas[0]![0]!;
    expect(Object.keys(first).sort()).to.deep.equal(
      ['at', 'change', 'channelId', 'count', 'emoji', 'messageId', 'seq', 'type', 'userId'].sort(),
    );
    expect(first).to.include({
      type: 'reaction.changed',
      channelId: channel,
      seq: message.seq,
      messageId: message.id,
      change: 'added',
    });

    // Removing is a delta too, with the count after it; a repeat changes nothing and is not broadcast.
    const removed = await react(users[0]!, channel, message.seq, '👍', 'DELETE');
    expect(removed.status).to.equal(200);
    expect(removed.body).to.deep.include({ changed: true });
    expect(removed.body.reaction).to.include({ change: 'removed', count: 49, userId: users[0]!.id });
    const again = await react(users[0]!, channel, message.seq, '👍', 'DELETE');
    expect(again.body.changed).to.equal(false);
    const last = await eventually(
      () => deltas[1]!.at(-1),
      (e) => e?.change === 'removed',
    );
    expect(last).to.include({ userId: users[0]!.id, emoji: '👍', count: 49 });
    await new Promise((r) => setTimeout(r, 300));
    expect(deltas[1]!.filter((e) => e.change === 'removed')).to.have.length(1);
  });

  it('refuses a user past 20 keys on a message and a message past 50 keys, with stable codes', async () => {
    const [bob, carol, dave] = await Promise.all(
      ['bob', 'carol', 'dave'].map((n) => signup(stack.auth.url, n)),
    );
    const channel = await channelWith(stack.auth.url, alice, [bob!, carol!, dave!]);
    const message = await post(channel, 'so many feelings');
    const add = (user: TestUser, emojis: string[]) =>
      Promise.all(emojis.map((e, i) => react(user, channel, message.seq, e, 'PUT', i)));

    // 20 keys each for Bob and Carol: all kept.
    expect((await add(bob!, emoticons.slice(0, 20))).map((a) => a.status)).to.deep.equal(Array(20).fill(200));
    expect((await add(carol!, emoticons.slice(20, 40))).map((a) => a.status)).to.deep.equal(
      Array(20).fill(200),
    );
    // Bob's 21st is refused, and not kept.
    const bobOver = await react(bob!, channel, message.seq, emoticons[40]!);
    expect(bobOver.status).to.equal(409);
    expect(bobOver.body.error.code).to.equal('MSG_USER_REACTION_LIMIT');
    expect(bobOver.body.error.details?.limit).to.equal(20);

    // Dave brings the message to 50 distinct keys; the 51st is refused, an existing key is not.
    expect((await add(dave!, emoticons.slice(40, 50))).map((a) => a.status)).to.deep.equal(
      Array(10).fill(200),
    );
    const keysOver = await react(dave!, channel, message.seq, emoticons[50]!);
    expect(keysOver.status).to.equal(409);
    expect(keysOver.body.error.code).to.equal('MSG_REACTION_LIMIT');
    expect(keysOver.body.error.details?.limit).to.equal(50);
    expect((await react(dave!, channel, message.seq, emoticons[0]!)).status).to.equal(200);

    const read = await call<MessageAnswer>(url(0), 'GET', path(channel, message.seq), { token: alice.token });
    expect(Object.keys(read.body.message.reactions)).to.have.length(50);
    expect(read.body.message.reactions[emoticons[40]!]).to.deep.equal([dave!.id]);
    expect(read.body.message.reactions[emoticons[0]!]!.sort()).to.deep.equal([bob!.id, dave!.id].sort());

    // Freeing a key makes room again.
    expect((await react(dave!, channel, message.seq, emoticons[49]!, 'DELETE')).status).to.equal(200);
    expect((await react(dave!, channel, message.seq, emoticons[50]!)).status).to.equal(200);
  });

  it('accepts one emoji or a :shortcode: and refuses anything else; a deleted message takes none', async () => {
    const channel = await channelWith(stack.auth.url, alice, []);
    const message = await post(channel, 'keys');
    for (const good of ['👍', '❤️', '👍🏽', '🇫🇷', '👩‍👩‍👧', '1️⃣', ':party_parrot:']) {
      const answer = await react(alice, channel, message.seq, good);
      expect(answer.status, good).to.equal(200);
      expect(answer.body.reaction.emoji, good).to.equal(good);
    }
    for (const bad of ['a', 'ok', '👍👍', 'a.b', '$gt', ':Bad Code:', '👍 ', ':' + 'x'.repeat(31) + ':']) {
      const answer = await react(alice, channel, message.seq, bad);
      expect(answer.status, bad).to.equal(400);
      expect(answer.body.error.code, bad).to.equal('VALIDATION_FAILED');
    }
    const missing = await react(alice, channel, message.seq + 100, '👍');
    expect(missing.status).to.equal(404);
    expect(missing.body.error.code).to.equal('MSG_NOT_FOUND');

    const deleted = await call(url(0), 'DELETE', path(channel, message.seq), { token: alice.token });
    expect(deleted.status).to.equal(200);
    const late = await react(alice, channel, message.seq, '🎉');
    expect(late.status).to.equal(409);
    expect(late.body.error.code).to.equal('MSG_ALREADY_DELETED');
    const read = await call<MessageAnswer>(url(1), 'GET', path(channel, message.seq), { token: alice.token });
    expect(read.body.message.reactions).to.deep.equal({});
  });
});
