// Runs one ChatCluster process (a service's or the operator's `dist/src/main.js`) locally with the
// environment its pod would get, and waits until its readiness endpoint answers 200.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess, freePort, httpGet } from '@chatcluster/harness';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export interface LocalService {
  name: string;
  url: string;
  port: number;
  /** The process id (and process group id), e.g. for a test that kills it. */
  readonly pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/** `apps/<name>/dist/src/main.js`, or `<name>/dist/src/main.js` for the operator. */
function mainScript(name: string): string {
  return name === 'operator'
    ? join(repoRoot, 'operator', 'dist', 'src', 'main.js')
    : join(repoRoot, 'apps', name, 'dist', 'src', 'main.js');
}

export async function startLocalService(
  name: string,
  env: Record<string, string>,
  logDir = join(tmpdir(), 'chatcluster-dev'),
): Promise<LocalService> {
  mkdirSync(logDir, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(logDir, `${name}.log`);
  const child = await ManagedProcess.start({
    name,
    command: process.execPath,
    args: [mainScript(name)],
    cwd: repoRoot,
    logFile,
    env: { ...env, PORT: String(port), SERVICE_NAME: name, LOG_LEVEL: env.LOG_LEVEL ?? 'info' },
    ready: async () => (await httpGet(`${url}/health/readiness`).catch(() => ({ status: 0 }))).status === 200,
    readyTimeoutMs: 60_000,
    stopSignal: 'SIGTERM',
    stopGraceMs: 35_000,
  });
  return { name, url, port, pid: child.pid, logFile, stop: () => child.stop() };
}
