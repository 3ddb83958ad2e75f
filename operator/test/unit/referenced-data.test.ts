import { expect } from 'chai';
import { REFERENCED_DATA_CHECKSUM_ANNOTATION } from '../../src/specs/meta.js';
import { podDataSources, podTemplate } from '../../src/specs/pod-template.js';
import {
  dataDigest,
  dataSourceKey,
  referencedDataSources,
  type DataDigests,
} from '../../src/specs/referenced-data.js';
import { sampleCluster } from '../support/sample-cluster.js';

type Component = 'auth' | 'message' | 'notification';

const checksum = (component: Component, digests: DataDigests, spec: Record<string, unknown> = {}) =>
  (
    podTemplate(sampleCluster(spec), component, digests) as {
      metadata: { annotations: Record<string, string> };
    }
  ).metadata.annotations[REFERENCED_DATA_CHECKSUM_ANNOTATION];

const names = (component: Component, spec: Record<string, unknown> = {}) =>
  podDataSources(sampleCluster(spec), component).map(dataSourceKey);

describe('referenced data checksum on the pod template', () => {
  it('names every Secret and ConfigMap a pod reads, sorted, once, except the ones the operator builds', () => {
    const sources = referencedDataSources(
      {
        initContainers: [{ env: [{ valueFrom: { secretKeyRef: { name: 'init-secret' } } }] }],
        containers: [
          {
            env: [
              { valueFrom: { secretKeyRef: { name: 'db' } } },
              { valueFrom: { secretKeyRef: { name: 'db' } } },
              { valueFrom: { configMapKeyRef: { name: 'tuning' } } },
            ],
            envFrom: [{ configMapRef: { name: 'own-config' } }, { secretRef: { name: 'bulk' } }],
          },
        ],
        volumes: [
          { secret: { secretName: 'tls' } },
          { configMap: { name: 'flags' } },
          { projected: { sources: [{ secret: { name: 'kek' } }, { configMap: { name: 'ca' } }] } },
        ],
      },
      new Set(['own-config', 'flags']),
    );
    expect(sources.map(dataSourceKey)).to.deep.equal([
      'ConfigMap/ca',
      'ConfigMap/tuning',
      'Secret/bulk',
      'Secret/db',
      'Secret/init-secret',
      'Secret/kek',
      'Secret/tls',
    ]);
  });

  it('derives the sources from the built pod template: each component its own Secrets, no own ConfigMap', () => {
    // prod-internal-api-token and prod-key-encryption: the Secrets the operator generates.
    expect(names('auth')).to.deep.equal([
      'Secret/chat-postgres',
      'Secret/chat-redis',
      'Secret/prod-internal-api-token',
      'Secret/prod-key-encryption',
    ]);
    expect(names('message')).to.deep.equal([
      'Secret/chat-mongodb',
      'Secret/chat-redis',
      'Secret/prod-internal-api-token',
    ]);
    expect(names('notification')).to.deep.equal(['Secret/chat-redis', 'Secret/prod-internal-api-token']);
    expect(
      names('notification', {
        notification: { fcm: { secretRef: { name: 'fcm' } }, sendgrid: { secretRef: { name: 'sg' } } },
      }),
    ).to.deep.equal(['Secret/chat-redis', 'Secret/fcm', 'Secret/prod-internal-api-token', 'Secret/sg']);
  });

  it('changes when the data of a Secret the component reads changes, and only then', () => {
    const digests = new Map([
      ['Secret/chat-postgres', 'p1'],
      ['Secret/chat-redis', 'r1'],
      ['Secret/chat-mongodb', 'm1'],
    ]);
    const rotated = new Map([...digests, ['Secret/chat-postgres', 'p2']]);
    expect(checksum('auth', digests)).to.match(/^[0-9a-f]{64}$/);
    expect(checksum('auth', rotated)).to.not.equal(checksum('auth', digests));
    // The message service does not read the PostgreSQL Secret: its pods must not roll.
    expect(checksum('message', rotated)).to.equal(checksum('message', digests));
    // A Secret created later (unread, then read) changes it too: pods waiting for it start again.
    expect(checksum('auth', new Map([['Secret/chat-redis', 'r1']]))).to.not.equal(checksum('auth', digests));
  });

  it('digests data independently of key order, keyed by the object uid', () => {
    const a = dataDigest('uid-1', { user: 'chat', password: 'hunter2' });
    expect(dataDigest('uid-1', { password: 'hunter2', user: 'chat' })).to.equal(a);
    expect(dataDigest('uid-1', { user: 'chat', password: 'hunter3' })).to.not.equal(a);
    expect(dataDigest('uid-2', { user: 'chat', password: 'hunter2' }), 'same data, recreated').to.not.equal(
      a,
    );
    expect(dataDigest('uid-1', { user: 'chat' }, { password: 'aHVudGVyMg==' })).to.not.equal(a);
    expect(a).to.match(/^[0-9a-f]{64}$/);
  });
});
