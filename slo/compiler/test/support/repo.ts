// Where the repository's files are, found from this file so tests run from any working directory.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSlos, type DefinitionFile, type SloSpec } from '../../src/index.js';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && 'workspaces' in (JSON.parse(readFileSync(manifest, 'utf8')) as object))
      return dir;
    dir = dirname(dir);
  }
  throw new Error('no package.json with workspaces above the test file');
}

export const REPO_ROOT = findRepoRoot();
export const DEFINITIONS_DIR = join(REPO_ROOT, 'slo', 'definitions');
export const GENERATED_DIR = join(REPO_ROOT, 'slo', 'generated');
export const RUNBOOKS_DIR = join(REPO_ROOT, 'docs', 'runbooks');
export const ARCHITECTURE_DOC = join(REPO_ROOT, 'docs', 'architecture.md');

/** The committed definitions, with repository-relative paths as the CLI would name them. */
export function definitionFiles(): DefinitionFile[] {
  return readdirSync(DEFINITIONS_DIR)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => {
      const path = join(DEFINITIONS_DIR, name);
      return { path: relative(REPO_ROOT, path), text: readFileSync(path, 'utf8') };
    });
}

export function repoSlos(): SloSpec[] {
  return loadSlos(definitionFiles());
}
