#!/usr/bin/env node
// Writes every dashboard to <folder>/<uid>.json and removes JSON files no dashboard produces.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashboardFiles } from './index.js';

const folder = process.argv[2];
if (!folder) {
  console.error('usage: node dist/src/cli.js <output folder>');
  process.exit(2);
}
mkdirSync(folder, { recursive: true });
const files = dashboardFiles();
for (const [name, text] of files) writeFileSync(join(folder, name), text);
for (const name of readdirSync(folder))
  if (name.endsWith('.json') && !files.has(name)) rmSync(join(folder, name));
console.log(`wrote ${files.size} dashboards to ${folder}`);
