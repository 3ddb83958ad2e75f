// The chat page in headless Chromium: log in, pick a channel, send and receive, show reactions as
// their deltas arrive, and keep doing so across a forced reconnect (the instance serving the page's
// WebSocket is killed).
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { ReactionEvent } from '@chatcluster/message-sdk';
import { call, channelWith, eventually, signup, type TestUser } from '../support/api.js';
import { RecordingClient, wsUrl } from '../support/clients.js';
import { startStack, type Stack } from '../support/stack.js';

describe('message: the chat page in Chromium', function () {
  let stack: Stack;
  let browser: BrowserContext;
  let profile: string;
  let friend: RecordingClient | undefined;

  before(async () => {
    stack = await startStack();
    profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    // A fresh profile directory per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    friend?.close();
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
    await stack?.stop();
  });

  const texts = (page: Page) =>
    page.$$eval('#messages li .text', (els) => els.map((e) => e.textContent ?? ''));

  it('sends and receives, shows reactions, shows the connection state, and carries on across a forced reconnect', async () => {
    const [first, second] = stack.instances.map((i) => i.url) as [string, string];
    const other: TestUser = await signup(stack.auth.url, 'friend');
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${first}/?ws=${encodeURIComponent([wsUrl(first), wsUrl(second)].join(','))}`);

    // Sign up through the page, then find the user the page created.
    const username = `page_${Date.now().toString(36)}`;
    await page.fill('#username', username);
    await page.fill('#password', 'correct horse battery');
    await page.click('#signup-button');
    await page.waitForSelector('#state[data-state="open"]');
    const token = await page.evaluate(async () => {
      const answer = await fetch('/auth/api/v1/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: (document.getElementById('username') as HTMLInputElement).value,
          password: 'correct horse battery',
        }),
      });
      return ((await answer.json()) as { accessToken: string }).accessToken;
    });
    const meRes = await fetch(`${stack.auth.url}/api/v1/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const me = (await meRes.json()) as { id: string };
    const channel = await channelWith(stack.auth.url, other, [{ id: me.id, username, token }]);

    friend = new RecordingClient([second], other.token);
    await friend.open();
    await friend.subscribed(channel);

    await page.reload();
    await page.fill('#username', username);
    await page.fill('#password', 'correct horse battery');
    await page.click('#login-button');
    await page.waitForSelector(`#channels li[data-id="${channel}"]`);
    await page.click(`#channels li[data-id="${channel}"]`);

    await page.fill('#body', 'hello from the page');
    await page.press('#body', 'Enter');
    await eventually(
      () => friend!.received(channel).map((e) => e.message.body),
      (b) => b.includes('hello from the page'),
    );
    const hello = await friend.client.send(channel, 'hello page');
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('#messages .text')).some((e) => e.textContent === 'hello page'),
    );

    // A reaction made elsewhere reaches the page as a delta; the page's own reaches the others.
    const friendSaw: ReactionEvent[] = [];
    friend.client.on('reaction', (e) => friendSaw.push(e));
    const reactionPath = `/api/v1/messages/${channel}/${hello.seq}/reactions/${encodeURIComponent('👍')}`;
    expect((await call(second, 'PUT', reactionPath, { token: other.token })).status).to.equal(200);
    const reactionsShown = (n: number) =>
      page.waitForFunction(
        ([seq, text]) => document.querySelector(`#m-${seq} .reactions`)?.textContent === text,
        [hello.seq, `👍 ${n}`] as const,
      );
    await reactionsShown(1);
    await page.click(`#m-${hello.seq} .react`);
    await reactionsShown(2);
    const fromPage = await eventually(
      () => friendSaw.find((e) => e.userId === me.id),
      (e) => e !== undefined,
    );
    expect(fromPage).to.include({ seq: hello.seq, emoji: '👍', change: 'added', count: 2 });

    // Force a reconnect: the instance the page's WebSocket is on dies.
    stack.instances[0]!.kill('SIGKILL');
    await page.waitForFunction(() => document.getElementById('state')!.dataset['state'] !== 'open');
    await page.waitForSelector('#state[data-state="open"]', { timeout: 30_000 });
    expect(await page.textContent('#reconnects')).to.match(/reconnects: [1-9]/);

    await page.fill('#body', 'after the reconnect');
    await page.press('#body', 'Enter');
    await friend.client.send(channel, 'welcome back');
    await eventually(
      () => friend!.received(channel).map((e) => e.message.body),
      (b) => b.includes('after the reconnect'),
    );
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('#messages .text')).some((e) => e.textContent === 'welcome back'),
    );
    expect(await texts(page)).to.deep.equal([
      'hello from the page',
      'hello page',
      'after the reconnect',
      'welcome back',
    ]);
    expect(errors).to.deep.equal([]);
  });
});
