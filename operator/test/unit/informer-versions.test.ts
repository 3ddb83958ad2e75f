// The informer treats resourceVersions as opaque, as the API conventions require: it never orders them,
// only compares them for equality and follows the order in which the server sends events. A real
// kube-apiserver on etcd happens to send increasing numbers, which cannot show the difference, so this
// test runs the informer (and its real HTTP client) against a minimal list/watch server that sends
// versions a numeric comparison would misorder.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { Informer, type CachedObject } from '../../src/controller/informer.js';
import { KubeClient } from '../../src/kube/client.js';
import { OWNED_TYPES } from '../../src/kube/resources.js';

type ConfigMap = CachedObject & { data: { value: string } };

const CONFIG_MAP = OWNED_TYPES.find((t) => t.kind === 'ConfigMap')!;
const NS = 'chat';

const configMap = (name: string, resourceVersion: string, value: string): ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NS, resourceVersion },
  data: { value },
});

/** Answers one list and holds watches open; the test sends each watch event. */
class OpaqueVersionApi {
  readonly #watches: ServerResponse[] = [];
  readonly #server: Server;

  constructor(
    private readonly listed: ConfigMap[],
    private readonly listVersion: string,
  ) {
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  async start(): Promise<KubeConfig> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      // Plain HTTP on loopback: the client library allows it only with skipTLSVerify.
      clusters: [{ name: 'stand-in', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'anyone' }],
      contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'anyone' }],
      currentContext: 'stand-in',
    });
    return kubeConfig;
  }

  get watching(): number {
    return this.#watches.length;
  }

  send(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: ConfigMap): void {
    for (const watch of this.#watches) watch.write(JSON.stringify({ type, object }) + '\n');
  }

  async stop(): Promise<void> {
    for (const watch of this.#watches) watch.end();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    res.writeHead(200, { 'content-type': 'application/json' });
    if (url.searchParams.get('watch') === 'true') {
      res.flushHeaders();
      this.#watches.push(res);
      return;
    }
    res.end(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMapList',
        metadata: { resourceVersion: this.listVersion },
        items: this.listed,
      }),
    );
  }
}

const until = async (what: string, check: () => boolean): Promise<void> => {
  const deadline = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('informer with opaque resourceVersions', () => {
  let api: OpaqueVersionApi;
  let informer: Informer<ConfigMap>;
  const events: string[] = [];

  const start = async (listed: ConfigMap[]) => {
    api = new OpaqueVersionApi(listed, '10');
    const client = new KubeClient(await api.start(), { fieldManager: 'informer-test' });
    informer = new Informer<ConfigMap>(client, CONFIG_MAP, { namespace: NS });
    informer.onChange((event, object) => events.push(`${event} ${object.metadata.resourceVersion}`));
    informer.start();
    await informer.waitForSync();
    await until('the watch', () => api.watching === 1);
    events.length = 0;
  };
  const value = () => informer.get(NS, 'a')?.data.value;

  afterEach(async () => {
    await informer?.stop();
    await api?.stop();
  });

  it('takes a watched version that is numerically smaller as the newer one', async () => {
    await start([configMap('a', '10', 'listed')]);
    api.send('MODIFIED', configMap('a', '9', 'changed'));
    await until('the change', () => value() === 'changed');
    expect(events).to.deep.equal(['updated 9']);
  });

  it('keeps a primed write over the older events still in flight, until the watch sends it', async () => {
    await start([configMap('a', '10', 'listed')]);
    informer.prime(configMap('a', '5', 'written by the operator'));
    expect(value()).to.equal('written by the operator');
    // Sent before the write reached the watch: older, though numerically larger.
    api.send('MODIFIED', configMap('a', '70', 'someone else, earlier'));
    api.send('MODIFIED', configMap('a', '5', 'written by the operator'));
    api.send('MODIFIED', configMap('a', '3', 'someone else, later'));
    await until('the later change', () => value() === 'someone else, later');
    expect(events).to.deep.equal(['updated 3']);
  });

  it('ignores a primed write the watch already sent, with newer versions after it', async () => {
    await start([configMap('a', '1', 'listed')]);
    api.send('MODIFIED', configMap('a', '20', 'written by the operator'));
    api.send('MODIFIED', configMap('a', '3', 'someone else, later'));
    await until('both events', () => value() === 'someone else, later');
    // The response to the operator's write arrives after its watch event.
    informer.prime(configMap('a', '20', 'written by the operator'));
    expect(value()).to.equal('someone else, later');
  });

  it('keeps a primed re-creation when the watch then sends the earlier deletion', async () => {
    await start([configMap('a', '40', 'listed')]);
    informer.prime(configMap('a', '8', 'created again by the operator'));
    api.send('DELETED', configMap('a', '41', 'listed'));
    api.send('ADDED', configMap('a', '8', 'created again by the operator'));
    api.send('MODIFIED', configMap('a', '2', 'changed after'));
    await until('the later change', () => value() === 'changed after');
    expect(events).to.deep.equal(['updated 2']);
  });
});
