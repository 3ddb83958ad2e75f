// The chat page keeps its WebSocket across access-token expiry: the server closes with 4001 when the
// token expires, and the page refreshes the token (its refresh token) before the SDK reconnects.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { wsUrl } from '../support/clients.js';
import { startStack, type Stack } from '../support/stack.js';

const tokenTtlSeconds = 5;

describe('message: the chat page across token expiry', function () {
  let stack: Stack;
  let browser: BrowserContext;
  let profile: string;

  before(async () => {
    stack = await startStack({
      instances: 1,
      authEnv: { ACCESS_TOKEN_TTL_SECONDS: String(tokenTtlSeconds) },
    });
    profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
    await stack?.stop();
  });

  it('reconnects with a refreshed token after the server closes the expired one', async () => {
    const url = stack.instances[0]!.url;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const closes: number[] = [];
    page.on('websocket', (ws) => ws.on('close', () => closes.push(Date.now())));
    await page.goto(`${url}/?ws=${encodeURIComponent(wsUrl(url))}`);
    await page.fill('#username', `exp_${Date.now().toString(36)}`);
    await page.fill('#password', 'correct horse battery');
    await page.click('#signup-button');
    await page.waitForSelector('#state[data-state="open"]');

    // Past the first token's lifetime: the server closed that connection (4001) and the page came back.
    await page.waitForFunction(
      () => /reconnects: [1-9]/.test(document.getElementById('reconnects')!.textContent),
      {
        timeout: (tokenTtlSeconds + 5) * 1000,
      },
    );
    await page.waitForSelector('#state[data-state="open"]', { timeout: 5_000 });
    // With a stale token it would be refused (4003) and retry forever; with a fresh one it stays up.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await page.getAttribute('#state', 'data-state')).to.equal('open');
    expect(await page.textContent('#reconnects')).to.equal('reconnects: 1');
    expect(closes).to.have.length(1);
    expect(errors).to.deep.equal([]);
  });
});
