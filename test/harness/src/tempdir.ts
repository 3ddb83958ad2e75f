// Temporary directories for data, configs and logs; whatever a crashed test leaves is removed at exit.
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<string>();

/** Set HARNESS_KEEP_TEMP=1 to keep data and logs for a post-mortem. */
function keepTemp(): boolean {
  return process.env.HARNESS_KEEP_TEMP === '1';
}

process.on('exit', () => {
  if (keepTemp()) return;
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
});

/** Creates a fresh directory named after `label` under the OS temp dir (mode 0700). */
export function createTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `chatcluster-${label}-`));
  live.add(dir);
  return dir;
}

/** Removes a directory made by createTempDir (kept when HARNESS_KEEP_TEMP=1). */
export async function removeTempDir(dir: string): Promise<void> {
  live.delete(dir);
  if (keepTemp()) return;
  await rm(dir, { recursive: true, force: true });
}
