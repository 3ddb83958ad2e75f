// The ChatCluster `make dev` applies: examples/chatcluster-minimal.yaml with what one machine needs:
// fixed replica counts instead of autoscaling (no metrics server runs; two message replicas so
// WebSocket fan-out between instances is exercised), FCM and SendGrid pointed at the local provider
// sink, and short drain times so Ctrl-C is quick.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadYaml } from '@kubernetes/client-node';

const sample = fileURLToPath(new URL('../../../../examples/chatcluster-minimal.yaml', import.meta.url));

export const DEV_REPLICAS = { auth: 1, message: 2, notification: 1 } as const;

export interface DevClusterOptions {
  /** Base URL answering the FCM and SendGrid APIs; the providers are left off without it. */
  providerSinkUrl?: string;
}

export function devChatCluster(options: DevClusterOptions): Record<string, unknown> {
  const cluster = loadYaml<{ spec: Record<string, unknown> } & Record<string, unknown>>(
    readFileSync(sample, 'utf8'),
  );
  const components = Object.fromEntries(
    Object.entries(DEV_REPLICAS).map(([name, replicas]) => [
      name,
      { replicas, autoscaling: { enabled: false } },
    ]),
  );
  return {
    ...cluster,
    spec: {
      ...cluster.spec,
      components,
      ...(options.providerSinkUrl
        ? {
            notification: {
              fcm: { secretRef: { name: 'chat-fcm' }, baseUrl: options.providerSinkUrl },
              sendgrid: { secretRef: { name: 'chat-sendgrid' }, baseUrl: options.providerSinkUrl },
            },
          }
        : {}),
      preStopDelaySeconds: 1,
      terminationGracePeriodSeconds: 15,
    },
  };
}
