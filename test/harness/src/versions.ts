// The pinned component versions from tools/versions.env, the file the setup scripts read too,
// so the harness and `make setup` never disagree about what should be installed.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type PinnedVersions = Readonly<Record<string, string>>;

let cached: PinnedVersions | undefined;

/** The repository root: the nearest ancestor of this module that holds tools/versions.env. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'tools', 'versions.env'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`harness: tools/versions.env not found above ${fileURLToPath(import.meta.url)}`);
    }
    dir = parent;
  }
}

/** Every KEY=VALUE of tools/versions.env (comments and blank lines ignored). */
export function pinnedVersions(): PinnedVersions {
  if (cached) return cached;
  const versions: Record<string, string> = {};
  for (const line of readFileSync(join(repoRoot(), 'tools', 'versions.env'), 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) versions[match[1]!] = match[2]!.trim().replace(/^["']|["']$/g, '');
  }
  cached = versions;
  return versions;
}

/** One pinned version; throws naming the key when versions.env lacks it. */
export function pinnedVersion(key: string): string {
  const value = pinnedVersions()[key];
  if (value === undefined) throw new Error(`harness: ${key} is not set in tools/versions.env`);
  return value;
}
