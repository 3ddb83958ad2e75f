// The notification service process: `node dist/src/main.js`, configured by environment variables.
import { exitOnConfigError } from '@chatcluster/kit';
import { startNotification } from './app.js';

await exitOnConfigError(() => startNotification()).catch((err: unknown) => {
  process.stderr.write(
    `notification: could not start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
