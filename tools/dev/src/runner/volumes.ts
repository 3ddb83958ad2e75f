// The pod's volumes as local directories: a ConfigMap or Secret volume becomes a directory with one
// file per key (or per `items` entry), an emptyDir an empty directory. refresh() rewrites the files
// when the ConfigMap or Secret changed, each by an atomic rename, so a process watching the directory
// (the kit's feature flags) sees the new content without a restart, as with a real ConfigMap volume.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EnvSources } from './env.js';
import type { Container, Volume } from './types.js';

export interface MountedVolume {
  name: string;
  mountPath: string;
  /** The local directory standing in for mountPath. */
  dir: string;
}

function filesOf(volume: Volume, namespace: string, sources: EnvSources): Record<string, Buffer> | undefined {
  const pick = (data: Record<string, Buffer>, items?: { key: string; path: string }[]) =>
    items ? Object.fromEntries(items.filter((i) => i.key in data).map((i) => [i.path, data[i.key]!])) : data;
  if (volume.configMap) {
    const cm = sources.configMap(namespace, volume.configMap.name);
    if (!cm) return volume.configMap.optional ? {} : undefined;
    const data = Object.fromEntries([
      ...Object.entries(cm.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'utf8')] as const),
      ...Object.entries(cm.binaryData ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')] as const),
    ]);
    return pick(data, volume.configMap.items);
  }
  if (volume.secret) {
    const secret = sources.secret(namespace, volume.secret.secretName);
    if (!secret) return volume.secret.optional ? {} : undefined;
    const data = Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
    );
    return pick(data, volume.secret.items);
  }
  return {};
}

export class PodVolumes {
  readonly mounts: MountedVolume[] = [];
  private readonly volumes: Volume[];
  /** Files written per volume, so a key removed from the ConfigMap disappears from the directory. */
  private readonly written = new Map<string, Set<string>>();

  /** `root` is the pod's own directory; volumes go under root/volumes/<name>. */
  constructor(
    private readonly root: string,
    private readonly namespace: string,
    volumes: Volume[],
    container: Container,
  ) {
    this.volumes = volumes.filter((v) => v.configMap || v.secret || v.emptyDir);
    for (const mount of container.volumeMounts ?? []) {
      if (mount.subPath) continue;
      if (!this.volumes.some((v) => v.name === mount.name)) continue;
      this.mounts.push({
        name: mount.name,
        mountPath: mount.mountPath,
        dir: join(root, 'volumes', mount.name),
      });
    }
  }

  /** Creates or updates every volume; throws naming a missing ConfigMap or Secret. Returns changed files. */
  refresh(sources: EnvSources): string[] {
    const changed: string[] = [];
    for (const volume of this.volumes) {
      const dir = join(this.root, 'volumes', volume.name);
      mkdirSync(dir, { recursive: true });
      if (volume.emptyDir) continue;
      const files = filesOf(volume, this.namespace, sources);
      if (!files) {
        const what = volume.configMap
          ? `configmap "${volume.configMap.name}"`
          : `secret "${volume.secret!.secretName}"`;
        throw new Error(`volume ${volume.name}: ${what} not found`);
      }
      const previous = this.written.get(volume.name) ?? new Set<string>();
      for (const path of previous) {
        if (path in files) continue;
        rmSync(join(dir, path), { force: true });
        changed.push(join(dir, path));
      }
      this.written.set(volume.name, new Set(Object.keys(files)));
      for (const [path, content] of Object.entries(files)) {
        const file = join(dir, path);
        let before: Buffer | undefined;
        try {
          before = readFileSync(file);
        } catch {
          before = undefined;
        }
        if (before?.equals(content)) continue;
        mkdirSync(dirname(file), { recursive: true });
        const temp = `${file}.${process.pid}.tmp`;
        writeFileSync(temp, content, { mode: 0o644 });
        renameSync(temp, file);
        changed.push(file);
      }
    }
    return changed;
  }

  /** A path inside a mount, translated to the local directory (other paths unchanged). */
  localPath(path: string): string {
    for (const mount of this.mounts) {
      const base = mount.mountPath.replace(/\/$/, '');
      if (path === base || path.startsWith(`${base}/`)) return mount.dir + path.slice(base.length);
    }
    return path;
  }

  remove(): void {
    rmSync(join(this.root, 'volumes'), { recursive: true, force: true });
  }
}
