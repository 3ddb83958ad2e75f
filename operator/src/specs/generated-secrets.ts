// The Secrets the operator generates when the ChatCluster names none: the internal API token (auth's
// internal routes; message and notification present it) and the key-encryption keys that seal auth's
// signing keys at rest. Each is created once with random content and never overwritten (the
// reconciler creates, it never applies them), so a restart or a resync cannot rotate a secret.
import { randomBytes } from 'node:crypto';
import type { ChatCluster, SecretKeyRef } from '../api/types.js';
import { childMeta, clusterLabels, type KubeObject } from './meta.js';

/** The keys inside the key-encryption Secret (docs/auth-service.md, "Signing keys at rest"). */
export const KEY_ENCRYPTION_KEYS_KEY = 'keys';
export const KEY_ENCRYPTION_ACTIVE_ID_KEY = 'activeKeyId';
const INTERNAL_API_TOKEN_KEY = 'token';

export const internalApiTokenSecretName = (cluster: ChatCluster): string =>
  `${cluster.metadata.name}-internal-api-token`;
export const keyEncryptionSecretName = (cluster: ChatCluster): string =>
  `${cluster.metadata.name}-key-encryption`;

/** Where the services read the internal API token: the ChatCluster's Secret, or the generated one. */
export function internalApiTokenRef(cluster: ChatCluster): SecretKeyRef {
  return (
    cluster.spec.internalApiToken?.secretRef ?? {
      name: internalApiTokenSecretName(cluster),
      key: INTERNAL_API_TOKEN_KEY,
    }
  );
}

/** The Secret auth reads its key-encryption keys from: the ChatCluster's, or the generated one. */
export function keyEncryptionSecret(cluster: ChatCluster): string {
  return cluster.spec.keyEncryption?.secretRef.name ?? keyEncryptionSecretName(cluster);
}

/**
 * The Secrets to create for the references the ChatCluster leaves unset, with fresh random values.
 * The token Secret is owned by the ChatCluster (deleted with it). The key-encryption Secret is not:
 * the database it protects outlives the ChatCluster, and a ChatCluster created again must find the
 * key that opens the signing keys already stored.
 */
export function generatedSecrets(cluster: ChatCluster, now = new Date()): KubeObject[] {
  const secrets: KubeObject[] = [];
  if (!cluster.spec.internalApiToken) {
    secrets.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: childMeta(cluster, internalApiTokenSecretName(cluster), clusterLabels(cluster)),
      type: 'Opaque',
      data: { [INTERNAL_API_TOKEN_KEY]: b64(randomBytes(32).toString('base64url')) },
    });
  }
  if (!cluster.spec.keyEncryption) {
    const id = `kek-${now.toISOString().slice(0, 10).replaceAll('-', '')}`;
    secrets.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: keyEncryptionSecretName(cluster),
        namespace: cluster.metadata.namespace,
        labels: clusterLabels(cluster),
      },
      type: 'Opaque',
      data: {
        [KEY_ENCRYPTION_KEYS_KEY]: b64(`${id}:${randomBytes(32).toString('base64')}`),
        [KEY_ENCRYPTION_ACTIVE_ID_KEY]: b64(id),
      },
    });
  }
  return secrets;
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');
