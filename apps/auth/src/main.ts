// The auth service process: `node dist/src/main.js`, configured by environment variables.
import { exitOnConfigError } from '@chatcluster/kit';
import { startAuth } from './app.js';

await exitOnConfigError(() => startAuth()).catch((err: unknown) => {
  // Configuration problems exit inside exitOnConfigError; this is anything else (PostgreSQL unreachable, …).
  process.stderr.write(`auth: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
