// The informer against a real API server: it resumes a watch the server ends without listing again,
// and restarts (list, then watch) after a failed watch, missing no change made meanwhile.
import { expect } from 'chai';
import { Informer, type CachedObject } from '../../src/controller/informer.js';
import { KubeClient } from '../../src/kube/client.js';
import {
  createNamespace,
  eventually,
  startTestCluster,
  typeOf,
  type TestCluster,
} from '../support/test-cluster.js';

const configMap = (namespace: string, name: string, value: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace },
  data: { value },
});

describe('informer on a real API server', function () {
  this.timeout(60_000);
  let cluster: TestCluster;
  let ns: string;
  const informers: Informer<CachedObject>[] = [];

  before(async function () {
    this.timeout(180_000);
    cluster = await startTestCluster({ thirdPartyCrds: false });
    ns = await createNamespace(cluster.admin);
  });

  after(async function () {
    this.timeout(60_000);
    for (const informer of informers) await informer.stop();
    await cluster?.stop();
  });

  it('resumes watches the server ends, from the last version, without listing again', async () => {
    const client = new KubeClient(cluster.api.kubeConfig, { fieldManager: 'informer-test' });
    const seen: string[] = [];
    // The server ends each watch after 1 s.
    const informer = new Informer<CachedObject>(client, typeOf('ConfigMap'), {
      namespace: ns,
      watchTimeoutSeconds: 1,
    });
    informers.push(informer);
    informer.onChange((event, object) => seen.push(`${event} ${object.metadata.name}`));
    informer.start();
    await informer.waitForSync();
    await cluster.admin.create(configMap(ns, 'before-resume', 'a'));
    await new Promise((r) => setTimeout(r, 2500));
    await cluster.admin.create(configMap(ns, 'after-resume', 'b'));
    await eventually(
      'both ConfigMaps',
      () => seen.includes('added after-resume') && seen.includes('added before-resume'),
    );
    expect(client.counts.get('list')).to.equal(1);
    expect(client.counts.get('watch')).to.be.greaterThanOrEqual(3);
    expect(informer.restarts).to.equal(0);
    expect(informer.get(ns, 'after-resume')).to.not.equal(undefined);
  });

  it('lists again after failed watches, with backoff, and misses nothing changed meanwhile', async () => {
    let failWatches = 2;
    const errors: unknown[] = [];
    const client = new KubeClient(cluster.api.kubeConfig, {
      fieldManager: 'informer-test',
      beforeRequest: async (request) => {
        if (request.verb !== 'watch' || failWatches <= 0) return;
        failWatches--;
        // Changed while the informer cannot watch: it must still learn about it.
        await cluster.admin.create(configMap(ns, `during-failure-${failWatches}`, 'x'));
        throw new Error('connection reset (injected)');
      },
    });
    const informer = new Informer<CachedObject>(client, typeOf('ConfigMap'), {
      namespace: ns,
      onError: (err) => errors.push(err),
    });
    informers.push(informer);
    informer.start();
    await informer.waitForSync();
    await eventually(
      'both changes made during the failures',
      () =>
        informer.get(ns, 'during-failure-0') !== undefined &&
        informer.get(ns, 'during-failure-1') !== undefined,
    );
    expect(informer.restarts).to.equal(2);
    expect(errors).to.have.length(2);
    expect(client.counts.get('list')).to.equal(3);
    await cluster.admin.delete(typeOf('ConfigMap'), ns, 'during-failure-0');
    await eventually('the deletion', () => informer.get(ns, 'during-failure-0') === undefined);
  });
});
