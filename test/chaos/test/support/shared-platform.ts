// One platform for the failure matrix (each scenario starts from its healthy baseline on a fresh
// channel): started by the first scenario, stopped by the root hook (hooks.ts) after the last.
import { startChaosPlatform, type ChaosPlatform } from '../../src/index.js';

let started: Promise<ChaosPlatform> | undefined;

export function sharedPlatform(): Promise<ChaosPlatform> {
  started ??= startChaosPlatform();
  return started;
}

export async function stopSharedPlatform(): Promise<void> {
  if (!started) return;
  const platform = await started.catch(() => undefined);
  started = undefined;
  await platform?.stop();
}
