#!/usr/bin/env node
// Assembles what a container image needs to run one workspace package, into an output directory:
// its compiled code (dist/src and package.json), the same for every workspace package it depends on,
// and from node_modules only the packages its production dependencies reach (followed the way Node
// resolves them: nested node_modules first, then each parent's). `npm ci --omit=dev --workspace=…`
// cannot do this in this monorepo: a package that is a devDependency here is a dependency of another
// workspace (the test harness), so npm keeps it and everything it pulls in.
//
//   node tools/images/assemble.mjs <workspace dir, e.g. apps/auth> <output dir>
// Run from the repository root after `npm ci` and `tsc -b <workspace>`.
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const [workspace, out] = process.argv.slice(2);
if (!workspace || !out) {
  console.error('usage: node tools/images/assemble.mjs <workspace dir> <output dir>');
  process.exit(2);
}
const root = process.cwd();

/** @param {string} dir */
const manifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** Production dependency names of a package (optional ones may be absent: other platforms). */
function dependenciesOf(dir) {
  const pkg = manifest(dir);
  const required = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies });
  const optional = Object.keys({ ...pkg.optionalDependencies, ...pkg.peerDependenciesMeta });
  return { required: required.filter((n) => !optional.includes(n)), optional };
}

/** Where Node finds `name` from a package at `dir` (absolute, symlinks not followed), or undefined. */
function resolvePackage(name, dir) {
  for (let current = dir; ; current = dirname(current)) {
    const candidate = join(current, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (current === root || !current.startsWith(root)) return undefined;
  }
}

const packages = new Set(); // node_modules paths (relative to root) to copy whole
const links = new Map(); // node_modules symlink (relative) -> its target as written
const workspaces = new Set(); // workspace dirs (relative) to copy compiled
const seen = new Set();

function visit(dir) {
  const real = realpathSync(dir);
  if (seen.has(real)) return;
  seen.add(real);
  if (!real.split(sep).includes('node_modules')) workspaces.add(relative(root, real));
  const { required, optional } = dependenciesOf(real);
  for (const name of [...required, ...optional]) {
    const found = resolvePackage(name, real);
    if (!found) {
      if (required.includes(name))
        throw new Error(`${relative(root, real)}: dependency ${name} is not installed`);
      continue;
    }
    const rel = relative(root, found);
    if (lstatSync(found).isSymbolicLink()) links.set(rel, readlinkSync(found));
    else packages.add(rel);
    visit(found);
  }
}

visit(resolve(root, workspace));

mkdirSync(out, { recursive: true });
cpSync(join(root, 'package.json'), join(out, 'package.json'));
// A workspace ships its compiled code, plus what its package.json `files` names besides (e.g. the
// message service's chat page, apps/message/web).
for (const dir of workspaces) {
  cpSync(join(root, dir, 'package.json'), join(out, dir, 'package.json'));
  const shipped = new Set(['dist/src', ...(manifest(join(root, dir)).files ?? [])]);
  for (const entry of shipped) cpSync(join(root, dir, entry), join(out, dir, entry), { recursive: true });
}
// Parents before children, so a nested package is copied into its already-copied parent.
for (const dir of [...packages].sort()) {
  cpSync(join(root, dir), join(out, dir), {
    recursive: true,
    verbatimSymlinks: true,
    // Nested node_modules are copied only where reachable (their own entries in `packages`).
    filter: (source) =>
      source === join(root, dir) || !relative(join(root, dir), source).startsWith('node_modules'),
  });
}
for (const [link, target] of links) {
  mkdirSync(dirname(join(out, link)), { recursive: true });
  symlinkSync(target, join(out, link));
}
console.log(
  `assembled ${workspace}: ${workspaces.size} workspace packages (${[...workspaces].sort().join(', ')}), ${packages.size} packages from node_modules`,
);
