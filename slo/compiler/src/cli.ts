#!/usr/bin/env node
// chatcluster-slo: reads OpenSLO definitions from a folder and writes the rule files and
// alertmanager.yml into another (`--check` only reports whether they are up to date).
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateOutputs } from './generate.js';

const USAGE = 'usage: chatcluster-slo --definitions <dir> --out <dir> [--runbook-base-url <url>] [--check]';

function main(): number {
  const { values } = parseArgs({
    options: {
      definitions: { type: 'string' },
      out: { type: 'string' },
      'runbook-base-url': { type: 'string' },
      check: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.definitions || !values.out) {
    console.error(USAGE);
    return 2;
  }
  const definitionsDir = values.definitions;
  const files = readdirSync(definitionsDir)
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => ({
      path: join(definitionsDir, name),
      text: readFileSync(join(definitionsDir, name), 'utf8'),
    }));
  const runbookBaseUrl = values['runbook-base-url'];
  const outputs = generateOutputs(files, runbookBaseUrl ? { runbookBaseUrl } : {});

  const stale: string[] = [];
  for (const [relative, text] of outputs) {
    const path = join(values.out, relative);
    const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (current === text) continue;
    stale.push(relative);
    if (!values.check) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
  }
  // Rule files of SLOs that were removed from the definitions.
  const rulesDir = join(values.out, 'rules');
  const leftovers = existsSync(rulesDir)
    ? readdirSync(rulesDir)
        .filter((name) => !outputs.has(`rules/${name}`))
        .map((name) => `rules/${name}`)
    : [];
  for (const relative of leftovers) {
    stale.push(relative);
    if (!values.check) rmSync(join(values.out, relative));
  }
  if (values.check && stale.length > 0) {
    console.error(`out of date in ${values.out}: ${stale.join(', ')}; run chatcluster-slo without --check`);
    return 1;
  }
  console.log(
    values.check
      ? `${values.out} is up to date`
      : `wrote ${outputs.size} files to ${values.out} (${stale.length} changed)`,
  );
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`chatcluster-slo: ${(error as Error).message}`);
  process.exitCode = 1;
}
