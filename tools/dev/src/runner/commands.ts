// What process stands in for a container: the runner has no container runtime, so an image name maps
// to a local command. By default `<anything>/<component>:<tag>` runs `node apps/<component>/dist/src/main.js`
// (the operator's image `…/operator` runs `operator/dist/src/main.js`); `overrides` map an image name
// (without tag) or its last path segment to any command, which is how tests run a stand-in.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalCommand {
  command: string;
  args: string[];
  cwd: string;
}

export type CommandOverrides = Record<string, LocalCommand>;

/** `ghcr.io/chatcluster/auth:0.1.0` → `ghcr.io/chatcluster/auth`; digests are dropped too. */
export function imageName(image: string): string {
  const withoutDigest = image.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** The last path segment of the image name: the component (`auth`, `message`, …). */
export function imageComponent(image: string): string {
  const name = imageName(image);
  return name.slice(name.lastIndexOf('/') + 1);
}

export type CommandLookup = { ok: true; command: LocalCommand } | { ok: false; reason: string };

export function localCommand(
  image: string,
  repoRoot: string,
  overrides: CommandOverrides = {},
): CommandLookup {
  const name = imageName(image);
  const component = imageComponent(image);
  const override = overrides[name] ?? overrides[component];
  if (override) return { ok: true, command: override };
  const main =
    component === 'operator'
      ? join(repoRoot, 'operator', 'dist', 'src', 'main.js')
      : join(repoRoot, 'apps', component, 'dist', 'src', 'main.js');
  if (!existsSync(main)) {
    return { ok: false, reason: `no local build for image ${image}: ${main} does not exist (make build)` };
  }
  return { ok: true, command: { command: process.execPath, args: [main], cwd: repoRoot } };
}
