// Reads the project's Dockerfiles without Docker: the stages, and from them what the local cluster's
// images are assembled from (the workspace the build stage assembles, where the runtime stage copies
// it) and the runtime stage's image config. The Dockerfiles stay the one source of that config.
import { posix } from 'node:path';

export interface Instruction {
  keyword: string;
  args: string;
}
export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions (continuation lines joined, comments dropped) grouped by stage, ARG defaults applied to FROM. */
export function parseDockerfile(text: string): Stage[] {
  const lines = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [keyword, ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [name, value] = instruction.args.split('=');
      args[name!] = value ?? '';
    } else if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args.split(/\s+/);
      const from = image!.replace(/\$\{(\w+)\}/g, (_, arg: string) => args[arg] ?? '');
      stages.push({ from, ...(as?.toUpperCase() === 'AS' ? { name } : {}), instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** What the image of one workspace is made of, read from its Dockerfile. */
export interface AppImageSpec {
  /** The workspace the build stage assembles: `node tools/images/assemble.mjs <workspace> <output>`. */
  workspace: string;
  /** The runtime stage's base (its FROM, ARG defaults applied); replaced by the local base here. */
  runtimeFrom: string;
  /** Where the runtime stage copies the assembled output (`COPY --from=build /out /app`). */
  appPath: string;
  config: RuntimeConfig;
}

/** The runtime stage's image config, in the OCI config's terms. */
export interface RuntimeConfig {
  workingDir?: string;
  /** `KEY=value`, in order; a later one replaces an earlier one of the same key. */
  env: string[];
  user?: string;
  /** `8082/tcp` */
  exposedPorts: string[];
  entrypoint?: string[];
  cmd?: string[];
}

/** The instructions a runtime stage may hold: each is reproduced below. Anything else (a RUN) could not be. */
const RUNTIME_KEYWORDS = new Set(['WORKDIR', 'ENV', 'COPY', 'USER', 'EXPOSE', 'CMD', 'ENTRYPOINT']);

export function appImageSpec(dockerfile: string): AppImageSpec {
  const stages = parseDockerfile(dockerfile);
  const runtime = stages.at(-1);
  if (!runtime || stages.length < 2) throw new Error('expected a build stage and a runtime stage');
  const copies = runtime.instructions.filter((i) => i.keyword === 'COPY');
  const copy = copies.length === 1 ? /^--from=(\S+) (\S+) (\S+)$/.exec(copies[0]!.args) : null;
  if (!copy) throw new Error('expected the runtime stage to hold one `COPY --from=<stage> <output> <path>`');
  const [, fromStage, output, appPath] = copy as unknown as [string, string, string, string];
  if (!appPath.startsWith('/'))
    throw new Error(`COPY --from=${fromStage}: give the destination as an absolute path`);
  const build = stages.find((s) => s.name === fromStage);
  if (!build) throw new Error(`COPY --from=${fromStage}: no stage of that name`);
  const run = build.instructions
    .filter((i) => i.keyword === 'RUN')
    .map((i) => i.args)
    .join(' && ');
  const assemble = /node tools\/images\/assemble\.mjs (\S+) (\S+)/.exec(run);
  if (!assemble || assemble[2] !== output)
    throw new Error(
      `expected the ${fromStage} stage to run \`node tools/images/assemble.mjs <workspace> ${output}\``,
    );
  return { workspace: assemble[1]!, runtimeFrom: runtime.from, appPath, config: runtimeConfig(runtime) };
}

/** The image config a runtime stage's instructions set, as `docker build` would record it. */
export function runtimeConfig(stage: Stage): RuntimeConfig {
  const config: RuntimeConfig = { env: [], exposedPorts: [] };
  for (const { keyword, args } of stage.instructions) {
    if (!RUNTIME_KEYWORDS.has(keyword))
      throw new Error(`the runtime stage's ${keyword} cannot be reproduced without Docker`);
    switch (keyword) {
      case 'WORKDIR':
        config.workingDir = posix.resolve(config.workingDir ?? '/', args);
        break;
      case 'ENV':
        for (const [key, value] of envPairs(args)) {
          config.env = config.env.filter((e) => !e.startsWith(`${key}=`));
          config.env.push(`${key}=${value}`);
        }
        break;
      case 'USER':
        config.user = args;
        break;
      case 'EXPOSE':
        for (const port of args.split(/\s+/))
          config.exposedPorts.push(port.includes('/') ? port : `${port}/tcp`);
        break;
      case 'ENTRYPOINT':
        config.entrypoint = commandOf(args);
        delete config.cmd; // as in Docker: a new ENTRYPOINT clears the CMD set before it
        break;
      case 'CMD':
        config.cmd = commandOf(args);
        break;
    }
  }
  return config;
}

/** `ENV A=1 B="two words"`, or the legacy `ENV A value with spaces`. */
function envPairs(args: string): [string, string][] {
  const legacy = /^([^=\s]+)\s+(.*)$/.exec(args);
  if (legacy) return [[legacy[1]!, legacy[2]!]];
  return [...args.matchAll(/([^=\s]+)=("(?:[^"\\]|\\.)*"|\S*)/g)].map(([, key, value]) => [
    key!,
    value!.startsWith('"') ? (JSON.parse(value!) as string) : value!,
  ]);
}

/** The exec form (`["a", "b"]`) as it is; the shell form runs under /bin/sh -c, as in Docker. */
function commandOf(args: string): string[] {
  if (!args.startsWith('[')) return ['/bin/sh', '-c', args];
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
    throw new Error(`expected a JSON array of strings: ${args}`);
  return parsed;
}
