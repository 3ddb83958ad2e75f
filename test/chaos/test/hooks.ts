// Mocha root hooks of the chaos suite (.mocharc.chaos.json `require`s this file).
import { stopSharedPlatform } from './support/shared-platform.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(180_000);
    await stopSharedPlatform();
  },
};
