// A private Toxiproxy server for fault injection: put a proxy between a client and a real
// component, then add latency, cut bandwidth, or disable it entirely, through the v2 HTTP API.
import { join } from 'node:path';
import { locateBinary } from './binaries.js';
import { httpGet } from './http-get.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { createTempDir, removeTempDir } from './tempdir.js';

export interface ToxiproxyOptions {
  readyTimeoutMs?: number;
}

export interface ToxiproxyProxy {
  name: string;
  /** `host:port` clients connect to instead of the upstream. */
  listen: string;
  host: string;
  port: number;
  /** `host:port` of the real component. */
  upstream: string;
}

/** A toxic as Toxiproxy's API takes it; see https://github.com/Shopify/toxiproxy#toxics. */
export interface Toxic {
  /** Defaults to `<type>_<stream>` on the server side. */
  name?: string;
  /** e.g. `latency`, `bandwidth`, `timeout`, `reset_peer`, `slow_close`, `slicer`, `limit_data`. */
  type: string;
  /** `downstream` (server to client, the default) or `upstream`. */
  stream?: 'upstream' | 'downstream';
  /** Probability (0..1) that a connection is affected; default 1. */
  toxicity?: number;
  /** Type-specific, e.g. `{ latency: 300, jitter: 0 }` for `latency`. */
  attributes: Record<string, number>;
}

export interface ToxiproxyServer {
  /** `http://127.0.0.1:<port>` of the control API. */
  apiUrl: string;
  readonly pid: number;
  /** Creates an enabled proxy on a free port of `listenHost` (default 127.0.0.1) in front of
   * `upstream` (`host:port`). */
  createProxy(name: string, upstream: string, listenHost?: string): Promise<ToxiproxyProxy>;
  deleteProxy(name: string): Promise<void>;
  /** Adds a toxic to a proxy; resolves to the toxic as stored (with its name). */
  addToxic(proxy: string, toxic: Toxic): Promise<Required<Toxic>>;
  removeToxic(proxy: string, toxicName: string): Promise<void>;
  /** Closes the proxy's listener and connections: the upstream looks down. */
  disableProxy(name: string): Promise<void>;
  enableProxy(name: string): Promise<void>;
  /** Enables every proxy and removes every toxic. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
}

function hostAndPort(address: string): { host: string; port: number } {
  const separator = address.lastIndexOf(':');
  return { host: address.slice(0, separator), port: Number(address.slice(separator + 1)) };
}

export async function startToxiproxy(options: ToxiproxyOptions = {}): Promise<ToxiproxyServer> {
  const toxiproxyServer = locateBinary('toxiproxy-server');
  const dir = createTempDir('toxiproxy');
  let server: ManagedProcess;
  let apiUrl: string;
  try {
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    const url = apiUrl;
    server = await ManagedProcess.start({
      name: 'toxiproxy-server',
      command: toxiproxyServer,
      args: ['-host', '127.0.0.1', '-port', String(port)],
      env: { LOG_LEVEL: 'warn' },
      cwd: dir,
      logFile: join(dir, 'toxiproxy.log'),
      ready: async () => (await httpGet(`${url}/version`)).status === 200,
      readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
    });
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`harness: toxiproxy ${method} ${path} answered ${response.status}: ${text.trim()}`);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  const setEnabled = async (name: string, enabled: boolean): Promise<void> => {
    // Toxiproxy 2.5 updates with POST (PATCH came later).
    await call('POST', `/proxies/${encodeURIComponent(name)}`, { enabled });
  };

  return {
    apiUrl,
    pid: server.pid,
    async createProxy(name, upstream, listenHost = '127.0.0.1') {
      const listen = `${listenHost}:${await freePort()}`;
      const created = await call<ProxyJson>('POST', '/proxies', { name, listen, upstream, enabled: true });
      return { name, listen: created.listen, ...hostAndPort(created.listen), upstream: created.upstream };
    },
    async deleteProxy(name) {
      await call('DELETE', `/proxies/${encodeURIComponent(name)}`);
    },
    addToxic: (proxy, toxic) =>
      call<Required<Toxic>>('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, {
        stream: 'downstream',
        toxicity: 1,
        ...toxic,
      }),
    async removeToxic(proxy, toxicName) {
      await call('DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxicName)}`);
    },
    disableProxy: (name) => setEnabled(name, false),
    enableProxy: (name) => setEnabled(name, true),
    async reset() {
      await call('POST', '/reset');
    },
    async stop() {
      await server.stop();
      await removeTempDir(dir);
    },
  };
}
