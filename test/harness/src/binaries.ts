// Where each component's executable lives: Debian packages under /usr, Go-built tools in the cache
// that tools/setup/lib.sh fills. A missing one fails with the setup step that provides it.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pinnedVersion } from './versions.js';

export type BinaryName =
  | 'initdb'
  | 'postgres'
  | 'pg_ctl'
  | 'redis-server'
  | 'prometheus'
  | 'prometheus-server'
  | 'promtool'
  | 'prometheus-alertmanager'
  | 'amtool'
  | 'openssl'
  | 'etcd'
  | 'kube-apiserver'
  | 'kubectl'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubelet'
  | 'kube-proxy'
  | 'coredns'
  | 'pause'
  | 'containerd'
  | 'ctr'
  | 'iptables-save'
  | 'iptables-restore'
  | 'ip'
  | 'ferretdb'
  | 'helm'
  | 'toxiproxy-server'
  | 'toxiproxy-cli'
  | 'centrifugo';

/** The build cache, exactly as lib.sh computes it: `${CHATCLUSTER_CACHE:-$HOME/.cache/chatcluster}`. */
export function cacheDir(): string {
  // `:-` in bash treats an empty variable like an unset one, hence `||` rather than `??`.
  return process.env.CHATCLUSTER_CACHE || join(process.env.HOME || homedir(), '.cache', 'chatcluster');
}

/** Where tools/setup/go-tools.sh puts the Go-built binaries. */
export function cacheBinDir(): string {
  return join(cacheDir(), 'bin');
}

interface BinarySource {
  path: string;
  providedBy: string;
}

function sourceOf(name: BinaryName): BinarySource {
  const debian = (pkg: string): string => `tools/setup/debian.sh installs the Debian package ${pkg}`;
  const built = `tools/setup/go-tools.sh builds it into ${cacheBinDir()}`;
  switch (name) {
    case 'initdb':
    case 'postgres':
    case 'pg_ctl': {
      const major = pinnedVersion('POSTGRES_MAJOR');
      return { path: `/usr/lib/postgresql/${major}/bin/${name}`, providedBy: debian(`postgresql-${major}`) };
    }
    case 'redis-server':
      return { path: '/usr/bin/redis-server', providedBy: debian('redis-server') };
    case 'prometheus':
    case 'promtool':
      return { path: `/usr/bin/${name}`, providedBy: debian('prometheus') };
    case 'prometheus-alertmanager':
    case 'amtool':
      return { path: `/usr/bin/${name}`, providedBy: debian('prometheus-alertmanager') };
    case 'openssl':
      return { path: '/usr/bin/openssl', providedBy: debian('openssl') };
    case 'containerd':
    case 'ctr':
      return { path: `/usr/bin/${name}`, providedBy: debian('containerd') };
    case 'iptables-save':
    case 'iptables-restore':
      return { path: `/usr/sbin/${name}`, providedBy: debian('iptables') };
    case 'ip':
      return { path: '/usr/sbin/ip', providedBy: debian('iproute2') };
    case 'prometheus-server':
      return { path: join(cacheBinDir(), 'prometheus'), providedBy: built };
    case 'etcd':
    case 'kube-apiserver':
    case 'kubectl':
    case 'kube-controller-manager':
    case 'kube-scheduler':
    case 'kubelet':
    case 'kube-proxy':
    case 'coredns':
    case 'pause':
    case 'ferretdb':
    case 'helm':
    case 'toxiproxy-server':
    case 'toxiproxy-cli':
    case 'centrifugo':
      return { path: join(cacheBinDir(), name), providedBy: built };
  }
}

/** The absolute path of an executable, or an error naming it and the setup step that installs it. */
export function locateBinary(name: BinaryName): string {
  const { path, providedBy } = sourceOf(name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`harness: ${name} not found at ${path}; run make setup (${providedBy})`);
  }
  return path;
}
