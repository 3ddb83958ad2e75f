// One platform for the whole e2e suite (starting it takes about half a minute): started by the first
// file that asks, stopped by the root hook (hooks.ts) after the last test.
import { startTestPlatform, type TestPlatform } from '../../src/index.js';

let started: Promise<TestPlatform> | undefined;

export function sharedPlatform(): Promise<TestPlatform> {
  started ??= startTestPlatform('e2e');
  return started;
}

export async function stopSharedPlatform(): Promise<void> {
  if (!started) return;
  const platform = await started.catch(() => undefined);
  started = undefined;
  await platform?.stop();
}
