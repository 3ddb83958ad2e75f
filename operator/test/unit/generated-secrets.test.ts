import { expect } from 'chai';
import {
  generatedSecrets,
  internalApiTokenRef,
  keyEncryptionSecret,
} from '../../src/specs/generated-secrets.js';
import { podTemplate } from '../../src/specs/pod-template.js';
import { sampleCluster } from '../support/sample-cluster.js';

type Env = { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } };

function secretEnv(template: Record<string, unknown>): Record<string, unknown> {
  const container = (template as { spec: { containers: { env: Env[] }[] } }).spec.containers[0]!;
  return Object.fromEntries(
    container.env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom!.secretKeyRef]),
  );
}

const decoded = (data: unknown, key: string): string =>
  Buffer.from((data as Record<string, string>)[key]!, 'base64').toString();

describe('generated Secrets: internal API token and key-encryption keys', () => {
  it('generates both when the ChatCluster names neither: random, the token owned by the ChatCluster, the KEK not', () => {
    const cluster = sampleCluster();
    const [token, kek, ...rest] = generatedSecrets(cluster, new Date('2026-12-07T10:00:00Z'));
    expect(rest).to.have.length(0);
    expect(token!.metadata).to.include({ name: 'prod-internal-api-token', namespace: 'chat' });
    expect(token!.metadata.ownerReferences).to.deep.equal([
      {
        apiVersion: 'chatcluster.io/v1alpha1',
        kind: 'ChatCluster',
        name: 'prod',
        uid: cluster.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(decoded(token!['data'], 'token')).to.match(/^[A-Za-z0-9_-]{43}$/);

    expect(kek!.metadata).to.include({ name: 'prod-key-encryption', namespace: 'chat' });
    expect(kek!.metadata.ownerReferences).to.equal(undefined);
    const keys = decoded(kek!['data'], 'keys');
    expect(keys).to.match(/^kek-20261207:/);
    expect(Buffer.from(keys.split(':')[1]!, 'base64')).to.have.length(32);
    expect(decoded(kek!['data'], 'activeKeyId')).to.equal('kek-20261207');

    // Random each time: the reconciler only creates, so the first value stays.
    const again = generatedSecrets(cluster);
    expect(again[0]!['data']).to.not.deep.equal(token!['data']);
    expect(again[1]!['data']).to.not.deep.equal(kek!['data']);
  });

  it('generates nothing for what the ChatCluster references', () => {
    const cluster = sampleCluster({
      internalApiToken: { secretRef: { name: 'my-token', key: 'value' } },
      keyEncryption: { secretRef: { name: 'my-kek' } },
    });
    expect(generatedSecrets(cluster)).to.deep.equal([]);
    expect(internalApiTokenRef(cluster)).to.deep.equal({ name: 'my-token', key: 'value' });
    expect(keyEncryptionSecret(cluster)).to.equal('my-kek');
  });

  it('gives every component the internal API token, and only auth the key-encryption keys', () => {
    const cluster = sampleCluster();
    for (const component of ['auth', 'message', 'notification'] as const) {
      const env = secretEnv(podTemplate(cluster, component));
      expect(env['INTERNAL_API_TOKEN'], component).to.deep.equal({
        name: 'prod-internal-api-token',
        key: 'token',
      });
      if (component === 'auth') {
        expect(env['KEY_ENCRYPTION_KEYS']).to.deep.equal({ name: 'prod-key-encryption', key: 'keys' });
        expect(env['KEY_ENCRYPTION_KEY_ID']).to.deep.equal({
          name: 'prod-key-encryption',
          key: 'activeKeyId',
          optional: true,
        });
      } else {
        expect(env, component).to.not.have.any.keys('KEY_ENCRYPTION_KEYS', 'KEY_ENCRYPTION_KEY_ID');
      }
    }
    const referenced = sampleCluster({
      internalApiToken: { secretRef: { name: 'my-token' } },
      keyEncryption: { secretRef: { name: 'my-kek' } },
    });
    const env = secretEnv(podTemplate(referenced, 'auth'));
    expect(env['INTERNAL_API_TOKEN']).to.deep.equal({ name: 'my-token', key: 'token' });
    expect(env['KEY_ENCRYPTION_KEYS']).to.deep.equal({ name: 'my-kek', key: 'keys' });
  });
});
