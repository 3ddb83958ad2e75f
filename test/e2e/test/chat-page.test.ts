// The same journey on the chat page (served by the message service) in headless Chromium, against the
// platform as `make dev` starts it: two people sign up on the page, one creates a channel and the other
// joins it, they chat with each page's WebSocket on a different message replica, an offline member gets
// a push, the page pages back through the history, and edits, deletes and reactions show on the other page.
import { expect } from 'chai';
import { eventually } from '@chatcluster/harness';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import {
  historyPage,
  joinChannel,
  logIn,
  PASSWORD,
  pushes,
  registerDevice,
  signUp,
  username,
  wsUrl,
  type TestPlatform,
  type User,
} from '../src/index.js';
import { sharedPlatform } from './support/shared-platform.js';

const PAGE_SIZE = 5;

describe('e2e: the chat page in headless Chromium', function () {
  this.timeout(120_000);
  let platform: TestPlatform;
  let browser: BrowserContext;
  const errors: string[] = [];
  let profile: string;

  before(async function () {
    this.timeout(300_000);
    platform = await sharedPlatform();
    profile = mkdtempSync(join(tmpdir(), 'chromium-e2e-'));
    // A fresh profile directory per run (playwright passes it as --user-data-dir). Both people's pages
    // share it: the page keeps its session in memory only.
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
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(await platform?.logTails());
  });

  /** A page whose WebSocket prefers `replicaUrls[0]` (the SDK moves to the next one on a reconnect). */
  async function openPage(replicaUrls: string[]): Promise<Page> {
    const page = await browser.newPage();
    page.on('pageerror', (err) => errors.push(err.message));
    const ws = encodeURIComponent(replicaUrls.map(wsUrl).join(','));
    await page.goto(`${platform.messageUrl}/?pageSize=${PAGE_SIZE}&ws=${ws}`);
    return page;
  }

  async function signIn(page: Page, name: string, how: 'signup' | 'login'): Promise<void> {
    await page.fill('#username', name);
    await page.fill('#password', PASSWORD);
    await page.click(how === 'signup' ? '#signup-button' : '#login-button');
    await page.waitForSelector('#state[data-state="open"]');
  }

  const texts = (page: Page) =>
    page.$$eval('#messages li .text', (els) => els.map((e) => e.textContent ?? ''));
  const waitForText = (page: Page, text: string) =>
    page.waitForFunction(
      (t) => Array.from(document.querySelectorAll('#messages .text')).some((e) => e.textContent === t),
      text,
    );
  /** The `li` of the message whose text is exactly `text`. */
  const messageItem = (page: Page, text: string) =>
    page.locator('#messages li', {
      has: page.locator('.text', { hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }),
    });
  const typeMessage = async (page: Page, text: string) => {
    await page.fill('#body', text);
    await page.press('#body', 'Enter');
  };

  it('signs up, creates and joins a channel, chats across replicas, pushes, pages back, edits, deletes and reacts', async () => {
    const replicas = (await platform.replicas('message')).filter((r) => r.ready);
    expect(replicas).to.have.length(2);
    const [first, second] = replicas.map((r) => r.url) as [string, string];

    // Alice signs up on the page and creates a channel.
    const alicePage = await openPage([first, second]);
    const aliceName = username('palice');
    await signIn(alicePage, aliceName, 'signup');
    const channelName = `page-${randomBytes(3).toString('hex')}`;
    await alicePage.fill('#new-channel', channelName);
    await alicePage.press('#new-channel', 'Enter');
    const channelItem = alicePage.locator('#channels li', { hasText: `# ${channelName}` });
    await channelItem.waitFor();
    const channel = (await channelItem.getAttribute('data-id'))!;
    await channelItem.click();
    await alicePage.waitForSelector('#body:not([disabled])');

    // Bob signs up on his page and joins it from the public list.
    const bobPage = await openPage([second, first]);
    const bobName = username('pbob');
    await signIn(bobPage, bobName, 'signup');
    await bobPage.click('#refresh-channels');
    await bobPage.click(`#public-channels li[data-id="${channel}"] .join`);
    await bobPage.click(`#channels li[data-id="${channel}"]`);
    await bobPage.waitForSelector('#body:not([disabled])');

    // Carol joins too, through the API, with a phone; she stays offline. (Before the first message: the
    // notification service caches a channel's member list for 30 s.)
    const carol: User = await signUp(platform.authUrl, 'pcarol');
    await joinChannel(platform.authUrl, carol, channel);
    const device = `fcm-page-${randomBytes(8).toString('hex')}`;
    await registerDevice(platform.notificationUrl, carol, device);

    // Each page's WebSocket is on a different message replica.
    const aliceInstance = await alicePage.getAttribute('#instance', 'data-instance');
    const bobInstance = await bobPage.getAttribute('#instance', 'data-instance');
    expect(aliceInstance).to.not.equal(bobInstance);
    expect([aliceInstance, bobInstance].sort()).to.deep.equal(replicas.map((r) => r.name).sort());

    await typeMessage(alicePage, 'hello from Alice');
    await waitForText(bobPage, 'hello from Alice');
    await typeMessage(bobPage, 'hello from Bob');
    await waitForText(alicePage, 'hello from Bob');
    expect(await texts(alicePage)).to.deep.equal(['hello from Alice', 'hello from Bob']);
    expect(await texts(bobPage)).to.deep.equal(['hello from Alice', 'hello from Bob']);

    // Carol (a member with a phone, who never opened the page) is offline: Alice's message is pushed to her.
    await typeMessage(alicePage, 'Carol, a push for you');
    await waitForText(bobPage, 'Carol, a push for you');
    const toCarol = () => pushes(platform.platform.parts.sink.logFile).filter((p) => p.token === device);
    await eventually('a push to Carol for each message', () => toCarol().length >= 3, 30_000);
    expect(toCarol().map((p) => [p.body, p.data['channelId']])).to.deep.equal([
      ['hello from Alice', channel],
      ['hello from Bob', channel],
      ['Carol, a push for you', channel],
    ]);

    // More history than a page holds; Bob reloads and pages back with "Load older".
    const all = ['hello from Alice', 'hello from Bob', 'Carol, a push for you'];
    for (let i = 0; i < 9; i++) {
      const text = `page history ${i}`;
      await typeMessage(i % 2 === 0 ? alicePage : bobPage, text);
      all.push(text);
      await waitForText(i % 2 === 0 ? bobPage : alicePage, text);
    }
    await bobPage.reload();
    await signIn(bobPage, bobName, 'login');
    await bobPage.click(`#channels li[data-id="${channel}"]`);
    await waitForText(bobPage, all[all.length - 1]!);
    expect(await texts(bobPage)).to.deep.equal(all.slice(-PAGE_SIZE));
    let clicks = 0;
    while (await bobPage.isVisible('#load-older')) {
      const shown = (await texts(bobPage)).length;
      await bobPage.click('#load-older');
      await bobPage.waitForFunction((n) => document.querySelectorAll('#messages li').length > n, shown);
      clicks++;
    }
    expect(clicks).to.equal(Math.ceil(all.length / PAGE_SIZE) - 1);
    expect(await texts(bobPage)).to.deep.equal(all);
    // The page shows what the API holds.
    const login = await logIn(platform.authUrl, { username: bobName, password: PASSWORD });
    const bob = {
      id: login.body.user!.id,
      username: bobName,
      password: PASSWORD,
      token: login.body.accessToken!,
      refreshToken: login.body.refreshToken!,
    };
    const history = await historyPage(platform.messageUrl, bob, channel, { limit: 200 });
    expect(history.items.map((m) => m.body)).to.deep.equal(all);

    // Alice edits her first message; Bob's page shows the new text.
    await messageItem(alicePage, 'hello from Alice').locator('.edit').click();
    await alicePage.fill('#messages .edit-input', 'hello from Alice (edited)');
    await alicePage.press('#messages .edit-input', 'Enter');
    await waitForText(bobPage, 'hello from Alice (edited)');
    expect(await messageItem(bobPage, 'hello from Alice (edited)').locator('.edited').count()).to.equal(1);
    // Bob can react to it but not edit or delete it.
    const onBob = messageItem(bobPage, 'hello from Alice (edited)');
    expect(await onBob.locator('.edit').count()).to.equal(0);
    expect(await onBob.locator('.delete').count()).to.equal(0);
    await onBob.locator('.react').click();
    await alicePage.waitForFunction(() =>
      Array.from(document.querySelectorAll('#messages .reactions')).some((e) => e.textContent === '👍 1'),
    );
    // Alice deletes "Carol, a push for you"; both pages show the tombstone.
    await messageItem(alicePage, 'Carol, a push for you').locator('.delete').click();
    await waitForText(bobPage, '(deleted)');
    await waitForText(alicePage, '(deleted)');
    const expected = all.map((t) =>
      t === 'hello from Alice'
        ? 'hello from Alice (edited)'
        : t === 'Carol, a push for you'
          ? '(deleted)'
          : t,
    );
    expect(await texts(bobPage)).to.deep.equal(expected);
    expect(await texts(alicePage)).to.deep.equal(expected);
    expect(await alicePage.textContent('#chat-error')).to.equal('');
    expect(await bobPage.textContent('#chat-error')).to.equal('');
    expect(errors).to.deep.equal([]);
  });
});
