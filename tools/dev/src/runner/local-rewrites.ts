// What makes a pod's environment work on one machine, where every replica shares the host's network
// and file system:
// - ports: a variable named PORT or *_PORT whose value is a declared container port gets the replica's
//   own free local port (and PORT is set to the first port when nothing names it: the kit's contract);
// - Services: `<service>.<namespace>[.svc[.cluster.local]][:port]` becomes the runner's local proxy
//   for that Service port (kube-proxy's job). A fully qualified name with a port may name a Service
//   that does not exist yet (DNS resolves it once it does): its proxy port is reserved at once, so a
//   replica started before the Service still reaches it later;
// - mounts: a value that is a path under a volume's mountPath points into the local volume directory.
import type { ContainerPort } from './types.js';

export interface ServiceAddress {
  name: string;
  namespace: string;
  /** Service port → local proxy port. */
  ports: Map<number, number>;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function rewritePorts(
  env: Record<string, string>,
  ports: readonly ContainerPort[],
  localPorts: Map<number, number>,
): Record<string, string> {
  const out = { ...env };
  let named = false;
  for (const [name, value] of Object.entries(out)) {
    if (name !== 'PORT' && !name.endsWith('_PORT')) continue;
    const local = localPorts.get(Number(value));
    if (/^\d+$/.test(value) && local !== undefined) {
      out[name] = String(local);
      if (name === 'PORT') named = true;
    }
  }
  const first = ports[0];
  if (!named && !('PORT' in out) && first) out.PORT = String(localPorts.get(first.containerPort));
  return out;
}

export interface ServiceReference {
  name: string;
  namespace: string;
  port: number;
}

const DNS_LABEL = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';

/** `<service>.<namespace>.svc[.cluster.local]:<port>` references in a value: unambiguous in-cluster names. */
export function serviceReferences(value: string): ServiceReference[] {
  const pattern = new RegExp(
    `(?<![\\w.-])(${DNS_LABEL})\\.(${DNS_LABEL})\\.svc(?:\\.cluster\\.local)?:(\\d+)(?![\\w-])`,
    'g',
  );
  return [...value.matchAll(pattern)].map((m) => ({ name: m[1]!, namespace: m[2]!, port: Number(m[3]) }));
}

/** Replaces in-cluster Service addresses by 127.0.0.1:<proxy port>; a bare name needs the namespace. */
export function rewriteServiceAddress(value: string, services: readonly ServiceAddress[]): string {
  let out = value;
  for (const service of services) {
    const host = `${escape(service.name)}\\.${escape(service.namespace)}(?:\\.svc(?:\\.cluster\\.local)?)?`;
    const pattern = new RegExp(`(?<![\\w.-])${host}(?::(\\d+))?(?![\\w-])`, 'g');
    out = out.replace(pattern, (match: string, port?: string) => {
      const servicePort = port === undefined ? [...service.ports.keys()][0] : Number(port);
      const local = servicePort === undefined ? undefined : service.ports.get(servicePort);
      return local === undefined ? match : `127.0.0.1:${local}`;
    });
  }
  return out;
}

export function rewriteServices(
  env: Record<string, string>,
  services: readonly ServiceAddress[],
): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, rewriteServiceAddress(v, services)]));
}

export function rewriteMounts(
  env: Record<string, string>,
  localPath: (path: string) => string,
): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.startsWith('/') ? localPath(v) : v]));
}
