// A ChatCluster as the API server would return it (defaults applied), for builder and status tests.
import { defaultedSpec } from '../../src/api/defaults.js';
import { API_VERSION, KIND, type ChatCluster } from '../../src/api/types.js';

/** The smallest spec a person writes: version, data-store Secrets and the JWT issuer. */
export const MINIMAL_SPEC = {
  image: { version: '1.4.2' },
  dataStores: {
    postgres: { secretRef: { name: 'chat-postgres' } },
    mongodb: { secretRef: { name: 'chat-mongodb' } },
    redis: { secretRef: { name: 'chat-redis' } },
  },
  jwt: { issuer: 'https://chat.example.com' },
};

export function sampleCluster(
  spec: Record<string, unknown> = {},
  meta: Partial<ChatCluster['metadata']> = {},
): ChatCluster {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: {
      name: 'prod',
      namespace: 'chat',
      uid: '0b1f6c1e-0000-4000-8000-000000000001',
      generation: 1,
      ...meta,
    },
    spec: defaultedSpec({ ...MINIMAL_SPEC, ...spec }),
  };
}
