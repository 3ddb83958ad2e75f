// One platform for the failure matrix (each scenario starts from its healthy baseline on a fresh
// channel): started by the first scenario, stopped by the root hook (hooks.ts) after the last.
import { healthyBaseline, startChaosPlatform, type ChaosPlatform } from '../../src/index.js';

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

/**
 * A scenario's mocha hooks, registered in its describe before its own: the shared platform at its
 * healthy baseline before the scenario, the fault undone by `restore` after it (whatever failed),
 * and the services' log tails printed under a failed test. Returns the platform once `before` ran.
 */
export function useChaosPlatform(restore?: (platform: ChaosPlatform) => unknown): () => ChaosPlatform {
  let platform: ChaosPlatform | undefined;
  before(async function () {
    this.timeout(300_000);
    platform = await sharedPlatform();
    await healthyBaseline(platform);
  });
  after(async () => {
    if (platform && restore) await restore(platform);
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && platform) console.log(await platform.logTails());
  });
  return () => {
    if (!platform) throw new Error('the chaos platform is not started (useChaosPlatform before hook)');
    return platform;
  };
}
