// Mocha root hooks of the e2e suite (.mocharc.e2e.json `require`s this file).
import { stopSharedPlatform } from './support/shared-platform.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(120_000);
    await stopSharedPlatform();
  },
};
