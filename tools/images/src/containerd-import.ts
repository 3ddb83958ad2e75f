// Puts image archives into a containerd through `ctr`. The local cluster runs its own containerd on
// its own socket, so the socket is always given; the namespace defaults to k8s.io, the one the
// kubelet's CRI sees.
import { exec } from './exec.js';

export interface ContainerdTarget {
  /** containerd's gRPC socket, e.g. `/run/chatcluster/containerd/containerd.sock`. */
  socket: string;
  namespace?: string;
}

const ctr = (target: ContainerdTarget, args: string[]): Promise<string> =>
  exec('ctr', ['--address', target.socket, '--namespace', target.namespace ?? 'k8s.io', ...args]);

/** Every image in the namespace: reference → the digest of its manifest (or index). */
export async function listImages(target: ContainerdTarget): Promise<Map<string, string>> {
  // Columns: REF TYPE DIGEST SIZE PLATFORMS LABELS; a reference holds no blank.
  const rows = (await ctr(target, ['images', 'list'])).split('\n').slice(1).filter(Boolean);
  return new Map(rows.map((row) => row.split(/\s+/)).map(([ref, , digest]) => [ref!, digest!]));
}

/**
 * Imports an OCI archive: each image under the name its index.json gives it, unpacked into the
 * default snapshotter (the CRI's, unless the cluster configures another), so a pod starts without
 * unpacking first.
 */
export async function importArchive(target: ContainerdTarget, file: string): Promise<void> {
  await ctr(target, ['images', 'import', file]);
}
