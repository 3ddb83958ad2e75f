// Entry point: `node dist/src/main.js` (config from the environment, docs/architecture.md).
import { exitOnConfigError } from '@chatcluster/kit';
import { startMessageService } from './service.js';

await exitOnConfigError(() => startMessageService());
