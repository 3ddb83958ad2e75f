// The node's container runtime: containerd from Debian with the cluster's own config, socket and
// state, so it never meets a containerd the machine may run for something else.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, locateBinary, runCommand } from '@chatcluster/harness';
import type { ClusterDirs } from './layout.js';
import { containerdConfig } from './node-config.js';

/** The namespace the kubelet's CRI calls use. */
export const CRI_NAMESPACE = 'k8s.io';

export async function ctr(
  dirs: ClusterDirs,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCommand(locateBinary('ctr'), [
    '--address',
    dirs.containerdSocket,
    '--namespace',
    CRI_NAMESPACE,
    ...args,
  ]);
}

export async function startContainerd(dirs: ClusterDirs, logDir: string): Promise<ManagedProcess> {
  mkdirSync(dirs.config, { recursive: true });
  mkdirSync(dirs.containerdRoot, { recursive: true });
  const configFile = join(dirs.config, 'containerd.toml');
  writeFileSync(configFile, containerdConfig(dirs));
  return ManagedProcess.start({
    name: 'containerd',
    command: locateBinary('containerd'),
    args: ['--config', configFile],
    logFile: join(logDir, 'containerd.log'),
    ready: async () => (await ctr(dirs, ['version'])).code === 0,
    readyTimeoutMs: 30_000,
    stopSignal: 'SIGTERM',
    stopGraceMs: 10_000,
  });
}

/** Removes every container (and pod sandbox) a previous run left in containerd's metadata. */
export async function removeLeftoverContainers(dirs: ClusterDirs): Promise<number> {
  const listed = await ctr(dirs, ['containers', 'ls', '-q']);
  const ids = listed.stdout.split('\n').filter(Boolean);
  for (const id of ids) {
    await ctr(dirs, ['tasks', 'kill', '--signal', 'SIGKILL', id]);
    await ctr(dirs, ['tasks', 'delete', '--force', id]);
    await ctr(dirs, ['containers', 'delete', id]);
  }
  return ids.length;
}
