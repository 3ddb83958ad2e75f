// What the cluster changes on this machine, and how every change is put back: a bridge holding the
// node address, two sysctls, iptables chains (kube-proxy's KUBE-*, the CNI plugins' CNI-*), the pod
// bridge, mounts under the cluster's directories, and the processes it started (including pods'
// processes and containerd shims, which outlive containerd). restoreHost is also what a start runs
// after a `make dev` that was killed, so nothing it left behind stops the next one.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { locateBinary, runCommand } from '@chatcluster/harness';
import { NODE_ADDRESS, NODE_BRIDGE, POD_BRIDGE, type ClusterDirs } from './layout.js';

const SYSCTLS = {
  'net/ipv4/ip_forward': '1',
  // Pod-to-Service traffic between pods on one bridge must pass kube-proxy's iptables rules.
  'net/bridge/bridge-nf-call-iptables': '1',
} as const;

const hostChangesFile = (dirs: ClusterDirs): string => join(dirs.runtime, 'host-changes.json');

interface HostChanges {
  /** sysctl -> its value before the first start that changed it. */
  sysctls: Record<string, string>;
}

interface LockContents {
  pid: number;
  /** Processes started for the cluster: [pid, name], killed after a crash of the owner. */
  processes: [number, string][];
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the local Kubernetes cluster needs root (network bridges, iptables, containerd, mounts): run make dev / make test as root or with sudo',
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readLock(dirs: ClusterDirs): LockContents | undefined {
  try {
    return JSON.parse(readFileSync(dirs.lockFile, 'utf8')) as LockContents;
  } catch {
    return undefined;
  }
}

/** The cluster's lock: one cluster a machine. Refuses when its owner still runs. */
export class ClusterLock {
  private readonly processes: [number, string][] = [];

  private constructor(private readonly dirs: ClusterDirs) {}

  /** Takes the lock; returns whether a crashed owner's leftovers need cleaning first. */
  static acquire(dirs: ClusterDirs): { lock: ClusterLock; stale: LockContents | undefined } {
    const previous = readLock(dirs);
    if (previous && previous.pid !== process.pid && isAlive(previous.pid)) {
      throw new Error(
        `a local cluster is already running (process ${previous.pid}, lock ${dirs.lockFile}): stop that make dev / make test first (Ctrl-C, or kill ${previous.pid})`,
      );
    }
    mkdirSync(dirs.runtime, { recursive: true });
    const lock = new ClusterLock(dirs);
    lock.write();
    return { lock, stale: previous };
  }

  /** Records a process so that a crash of this one still lets the next start stop it. */
  track(pid: number, name: string): void {
    this.processes.push([pid, name]);
    this.write();
  }

  release(): void {
    rmSync(this.dirs.lockFile, { force: true });
  }

  private write(): void {
    const contents: LockContents = { pid: process.pid, processes: this.processes };
    writeFileSync(this.dirs.lockFile, JSON.stringify(contents));
  }
}

async function ip(args: string[]): Promise<{ code: number; stderr: string }> {
  return runCommand(locateBinary('ip'), args);
}

/** The node bridge with the node address, and the sysctls (their old values kept to restore). */
export async function prepareHost(dirs: ClusterDirs): Promise<void> {
  if (!existsSync('/proc/sys/net/bridge')) {
    throw new Error(
      'the kernel has no bridge netfilter (/proc/sys/net/bridge): load br_netfilter (modprobe br_netfilter)',
    );
  }
  mkdirSync(dirs.runtime, { recursive: true });
  const changesFile = hostChangesFile(dirs);
  // A file left by a killed run already holds the values from before any of our changes.
  if (!existsSync(changesFile)) {
    const sysctls: Record<string, string> = {};
    for (const key of Object.keys(SYSCTLS)) sysctls[key] = readFileSync(`/proc/sys/${key}`, 'utf8').trim();
    writeFileSync(changesFile, JSON.stringify({ sysctls } satisfies HostChanges));
  }
  for (const [key, value] of Object.entries(SYSCTLS)) writeFileSync(`/proc/sys/${key}`, value);
  await ip(['link', 'add', NODE_BRIDGE, 'type', 'bridge']); // exists already after a crash: fine
  const added = await ip(['addr', 'replace', `${NODE_ADDRESS}/32`, 'dev', NODE_BRIDGE]);
  if (added.code !== 0)
    throw new Error(`could not give ${NODE_ADDRESS} to ${NODE_BRIDGE}: ${added.stderr.trim()}`);
  const up = await ip(['link', 'set', NODE_BRIDGE, 'up']);
  if (up.code !== 0) throw new Error(`could not bring ${NODE_BRIDGE} up: ${up.stderr.trim()}`);
}

function processCommandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Every process in the kubelet's pod cgroups (pod containers and sandboxes). */
function podProcesses(): number[] {
  const root = '/sys/fs/cgroup/pids/kubepods';
  const pids: number[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) if (entry.isDirectory()) walk(join(dir, entry.name));
    try {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n'))
        if (line.trim()) pids.push(Number(line));
    } catch {
      // a cgroup removed while walking
    }
  };
  walk(root);
  return pids;
}

/** containerd's shims for our socket: they are daemonized and outlive containerd. */
function shimProcesses(dirs: ClusterDirs): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      const cmd = processCommandLine(pid);
      return cmd.includes('containerd-shim') && cmd.includes(dirs.containerdSocket);
    });
}

/** Kills the pods' processes and the shims; a crashed owner's recorded processes first. */
export async function killClusterProcesses(dirs: ClusterDirs, stale?: LockContents): Promise<void> {
  for (const [pid, name] of stale?.processes ?? []) {
    if (processCommandLine(pid).includes(name)) killGroup(pid);
  }
  for (let round = 0; round < 20; round++) {
    const pids = [...podProcesses(), ...shimProcesses(dirs)];
    if (pids.length === 0) return;
    for (const pid of pids) killGroup(pid);
    await delay(250);
  }
}

/** Unmounts everything under the cluster's directories, deepest first. */
async function unmountAll(dirs: ClusterDirs): Promise<void> {
  const prefixes = [dirs.run, dirs.runtime].map((dir) => `${dir}/`);
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((point): point is string => !!point && prefixes.some((prefix) => point.startsWith(prefix)))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await runCommand('umount', ['--lazy', point]);
}

/** An iptables-save dump without kube-proxy's and the CNI plugins' chains and the rules naming them. */
export function withoutClusterChains(dump: string): string {
  return dump
    .split('\n')
    .filter((line) => !/\b(KUBE|CNI)-[A-Z0-9-]+/.test(line))
    .join('\n');
}

/** Drops every KUBE-* and CNI-* chain and every rule jumping to one, keeping all other rules. */
async function removeIptablesChains(): Promise<void> {
  for (const family of ['iptables', 'ip6tables']) {
    const saved = await runCommand(`/usr/sbin/${family}-save`, []);
    if (saved.code !== 0) continue;
    const kept = withoutClusterChains(saved.stdout);
    if (kept === saved.stdout) continue;
    const restored = await runCommand(`/usr/sbin/${family}-restore`, [], { input: `${kept}\n` });
    if (restored.code !== 0) throw new Error(`${family}-restore failed: ${restored.stderr.trim()}`);
  }
}

/** Puts the machine back as it was before the cluster started (also after a crash). */
export async function restoreHost(dirs: ClusterDirs, stale?: LockContents): Promise<void> {
  await killClusterProcesses(dirs, stale);
  await unmountAll(dirs);
  rmSync(dirs.run, { recursive: true, force: true });
  rmSync(join(dirs.runtime, 'containerd'), { recursive: true, force: true });
  await removeIptablesChains();
  for (const link of [POD_BRIDGE, NODE_BRIDGE]) await ip(['link', 'del', link]);
  const changesFile = hostChangesFile(dirs);
  if (existsSync(changesFile)) {
    const { sysctls } = JSON.parse(readFileSync(changesFile, 'utf8')) as HostChanges;
    for (const [key, value] of Object.entries(sysctls)) writeFileSync(`/proc/sys/${key}`, value);
    rmSync(changesFile);
  }
}

export type { LockContents };
