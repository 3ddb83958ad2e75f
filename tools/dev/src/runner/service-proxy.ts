// kube-proxy in small: one local TCP listener per Service port, spreading connections round-robin over
// the ready replicas the Service selects (their local port for the targetPort). A replica that stops
// being ready gets no new connections; open ones (WebSockets) stay until either side closes them, as
// with conntrack on a node. TCP, so HTTP and WebSockets both pass.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from '@chatcluster/harness';
import type { ServiceAddress, ServiceReference } from './local-rewrites.js';
import type { ServiceObject } from './types.js';

export interface Endpoint {
  /** Replica (pod) name. */
  name: string;
  labels: Record<string, string>;
  /** Template port (name or number) → local port. */
  localPort: (port: number | string) => number | undefined;
}

interface Listener {
  servicePort: number;
  targetPort: number | string;
  localPort: number;
  server: Server;
  next: number;
  sockets: Set<Socket>;
}

interface ProxiedService {
  namespace: string;
  name: string;
  selector: Record<string, string>;
  listeners: Map<number, Listener>;
  /** False while only reserved: named by a replica's environment before the API server had it. */
  declared: boolean;
}

const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

export class ServiceProxies {
  private readonly services = new Map<string, ProxiedService>();
  private readonly opening = new Map<string, Promise<Listener>>();
  private endpointsOf: (namespace: string) => Endpoint[] = () => [];

  /** Where the ready replicas of a namespace come from. */
  setEndpointSource(source: (namespace: string) => Endpoint[]): void {
    this.endpointsOf = source;
  }

  /** Opens listeners for new Services and ports, closes those of deleted ones. Ports stay stable. */
  async sync(services: readonly ServiceObject[]): Promise<void> {
    const seen = new Set<string>();
    for (const service of services) {
      const namespace = service.metadata.namespace ?? 'default';
      const key = `${namespace}/${service.metadata.name}`;
      seen.add(key);
      let proxied = this.services.get(key);
      if (!proxied) {
        proxied = {
          namespace,
          name: service.metadata.name,
          selector: {},
          listeners: new Map(),
          declared: true,
        };
        this.services.set(key, proxied);
      }
      proxied.declared = true;
      proxied.selector = service.spec.selector ?? {};
      const ports = (service.spec.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP');
      for (const port of ports) {
        const targetPort = port.targetPort ?? port.port;
        (await this.listener(proxied, port.port, targetPort)).targetPort = targetPort;
      }
      for (const [servicePort, listener] of proxied.listeners) {
        if (!ports.some((p) => p.port === servicePort)) {
          await this.close(listener);
          proxied.listeners.delete(servicePort);
        }
      }
    }
    for (const [key, proxied] of this.services) {
      if (seen.has(key) || !proxied.declared) continue;
      for (const listener of proxied.listeners.values()) await this.close(listener);
      this.services.delete(key);
    }
  }

  /**
   * Gives Services named in an environment but not (yet) known a listener per named port, which
   * refuses connections until the Service appears and selects ready replicas; sync() then adopts it.
   */
  async reserve(references: readonly ServiceReference[]): Promise<void> {
    for (const ref of references) {
      const key = `${ref.namespace}/${ref.name}`;
      let proxied = this.services.get(key);
      if (!proxied) {
        proxied = {
          namespace: ref.namespace,
          name: ref.name,
          selector: {},
          listeners: new Map(),
          declared: false,
        };
        this.services.set(key, proxied);
      }
      if (!proxied.declared) await this.listener(proxied, ref.port, ref.port);
    }
  }

  addresses(): ServiceAddress[] {
    return [...this.services.values()].map((s) => ({
      name: s.name,
      namespace: s.namespace,
      ports: new Map([...s.listeners.values()].map((l) => [l.servicePort, l.localPort])),
    }));
  }

  /** `http://127.0.0.1:<port>` of a Service port (its first port when none is given). */
  url(namespace: string, name: string, servicePort?: number): string | undefined {
    const service = this.services.get(`${namespace}/${name}`);
    const listener =
      servicePort === undefined
        ? [...(service?.listeners.values() ?? [])][0]
        : service?.listeners.get(servicePort);
    return listener && `http://127.0.0.1:${listener.localPort}`;
  }

  /** Ready replicas behind a Service (names), for tests and status lines. */
  endpoints(namespace: string, name: string): string[] {
    const service = this.services.get(`${namespace}/${name}`);
    if (!service) return [];
    return this.endpointsOf(namespace)
      .filter((e) => selects(service.selector, e.labels))
      .map((e) => e.name);
  }

  async stop(): Promise<void> {
    for (const service of this.services.values()) {
      for (const listener of service.listeners.values()) await this.close(listener);
    }
    this.services.clear();
  }

  /** The listener of a Service port, opened once even when sync() and reserve() ask at the same time. */
  private listener(
    service: ProxiedService,
    servicePort: number,
    targetPort: number | string,
  ): Promise<Listener> {
    const existing = service.listeners.get(servicePort);
    if (existing) return Promise.resolve(existing);
    const key = `${service.namespace}/${service.name}:${servicePort}`;
    let opening = this.opening.get(key);
    if (!opening) {
      opening = this.listen(service, servicePort, targetPort)
        .then((listener) => {
          service.listeners.set(servicePort, listener);
          return listener;
        })
        .finally(() => this.opening.delete(key));
      this.opening.set(key, opening);
    }
    return opening;
  }

  private async listen(
    service: ProxiedService,
    servicePort: number,
    targetPort: number | string,
  ): Promise<Listener> {
    const localPort = await freePort();
    const listener: Listener = {
      servicePort,
      targetPort,
      localPort,
      next: 0,
      sockets: new Set(),
      server: createServer((client) => this.forward(service, listener, client)),
    };
    await new Promise<void>((resolve, reject) => {
      listener.server.once('error', reject);
      listener.server.listen(localPort, '127.0.0.1', () => resolve());
    });
    return listener;
  }

  private forward(service: ProxiedService, listener: Listener, client: Socket): void {
    const targets = this.endpointsOf(service.namespace)
      .filter((e) => selects(service.selector, e.labels))
      .map((e) => e.localPort(listener.targetPort))
      .filter((p): p is number => p !== undefined);
    if (targets.length === 0) {
      // No ready endpoint: refuse, as a Service without endpoints does.
      client.resetAndDestroy();
      return;
    }
    const port = targets[listener.next++ % targets.length]!;
    const upstream = connect({ host: '127.0.0.1', port });
    listener.sockets.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      listener.sockets.delete(client);
      listener.sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream).pipe(client);
  }

  private async close(listener: Listener): Promise<void> {
    for (const socket of listener.sockets) socket.destroy();
    await new Promise<void>((resolve) => listener.server.close(() => resolve()));
  }
}
