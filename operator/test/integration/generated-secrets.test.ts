// The Secrets the operator generates on a real API server: created once with random values, the
// token owned by the ChatCluster, the key-encryption keys kept; never overwritten, also not after a
// restart of the operator; and none generated for what the ChatCluster references.
import { expect } from 'chai';
import type { Operator } from '../../src/controller/operator.js';
import { isNotFound } from '../../src/kube/client.js';
import { resourceTypeOf } from '../../src/kube/resources.js';
import {
  chatCluster,
  createNamespace,
  createSecrets,
  eventually,
  getObject,
  newOperator,
  startTestCluster,
  typeOf,
  type ObjectWithMeta,
  type TestCluster,
} from '../support/test-cluster.js';

type SecretObject = ObjectWithMeta & { data: Record<string, string> };

const SECRET = resourceTypeOf({ apiVersion: 'v1', kind: 'Secret' });

async function secret(cluster: TestCluster, ns: string, name: string): Promise<SecretObject | undefined> {
  try {
    return await cluster.admin.get<SecretObject>(SECRET, ns, name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

describe('operator generating the internal API token and key-encryption Secrets', function () {
  this.timeout(120_000);
  let cluster: TestCluster;
  let operator: Operator;

  before(async function () {
    this.timeout(180_000);
    cluster = await startTestCluster({ thirdPartyCrds: false });
    operator = newOperator(cluster);
    operator.start();
  });

  after(async function () {
    this.timeout(60_000);
    await operator?.stop();
    await cluster?.stop();
  });

  it('creates both once, with random values, and never overwrites them', async () => {
    const ns = await createNamespace(cluster.admin);
    await createSecrets(cluster.admin, ns);
    const owner = await cluster.admin.create<ObjectWithMeta>(chatCluster(ns, 'prod'));
    const token = await eventually('the token Secret', () => secret(cluster, ns, 'prod-internal-api-token'));
    const kek = await eventually('the key-encryption Secret', () =>
      secret(cluster, ns, 'prod-key-encryption'),
    );
    expect(Buffer.from(token.data['token']!, 'base64').toString()).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(token.metadata.ownerReferences?.map((r) => r.uid)).to.deep.equal([owner.metadata.uid]);
    expect(kek.metadata.ownerReferences ?? []).to.deep.equal([]);
    expect(Object.keys(kek.data).sort()).to.deep.equal(['activeKeyId', 'keys']);

    // An operator restart (its memory of what exists is gone) and a spec change reconcile again.
    await operator.stop();
    operator = newOperator(cluster);
    operator.start();
    await cluster.admin.mergePatch(typeOf('ChatCluster'), ns, 'prod', {
      spec: { components: { auth: { logLevel: 'debug' } } },
    });
    await eventually('the change reconciled', async () => {
      const config = await getObject(cluster.admin, 'ConfigMap', ns, 'prod-auth-config');
      return (config as { data?: Record<string, string> } | undefined)?.data?.['LOG_LEVEL'] === 'debug';
    });
    await operator.waitForIdle();
    expect((await secret(cluster, ns, 'prod-internal-api-token'))!.data).to.deep.equal(token.data);
    expect((await secret(cluster, ns, 'prod-key-encryption'))!.data).to.deep.equal(kek.data);

    // The pods read them: every component the token, auth the keys.
    for (const component of ['auth', 'message', 'notification']) {
      const deployment = (await getObject(
        cluster.admin,
        'Deployment',
        ns,
        `prod-${component}`,
      )) as unknown as {
        spec: { template: { spec: { containers: { env: { name: string; valueFrom?: unknown }[] }[] } } };
      };
      const env = Object.fromEntries(
        deployment.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.valueFrom]),
      );
      expect(env['INTERNAL_API_TOKEN'], component).to.deep.equal({
        secretKeyRef: { name: 'prod-internal-api-token', key: 'token' },
      });
      expect('KEY_ENCRYPTION_KEYS' in env, component).to.equal(component === 'auth');
    }
  });

  it('generates none for Secrets the ChatCluster references', async () => {
    const ns = await createNamespace(cluster.admin);
    await createSecrets(cluster.admin, ns);
    await cluster.admin.create(
      chatCluster(ns, 'own', {
        internalApiToken: { secretRef: { name: 'my-token' } },
        keyEncryption: { secretRef: { name: 'my-kek' } },
      }),
    );
    await eventually('the auth Deployment', () => getObject(cluster.admin, 'Deployment', ns, 'own-auth'));
    await operator.waitForIdle();
    expect(await secret(cluster, ns, 'own-internal-api-token')).to.equal(undefined);
    expect(await secret(cluster, ns, 'own-key-encryption')).to.equal(undefined);
  });
});
