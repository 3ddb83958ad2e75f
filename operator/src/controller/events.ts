// Kubernetes Events on a ChatCluster for what the operator did (created, updated, corrected, pruned,
// fell back), so `kubectl describe chat` tells the story. Recording is best effort: a failed Event
// never fails a reconcile.
import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../kube/client.js';
import type { ChatCluster } from '../api/types.js';

export type EventType = 'Normal' | 'Warning';

export interface RecordedEvent {
  type: EventType;
  reason: string;
  message: string;
}

export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly instance: string,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  async record(cluster: ChatCluster, event: RecordedEvent): Promise<void> {
    const now = new Date().toISOString();
    try {
      await this.client.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {
          name: `${cluster.metadata.name}.${randomBytes(8).toString('hex')}`,
          namespace: cluster.metadata.namespace,
        },
        involvedObject: {
          apiVersion: cluster.apiVersion,
          kind: cluster.kind,
          name: cluster.metadata.name,
          namespace: cluster.metadata.namespace,
          uid: cluster.metadata.uid,
        },
        type: event.type,
        reason: event.reason,
        // The API server rejects Event messages above 1 KiB.
        message: event.message.length > 1000 ? `${event.message.slice(0, 997)}...` : event.message,
        source: { component: 'chatcluster-operator' },
        reportingComponent: 'chatcluster.io/operator',
        reportingInstance: this.instance,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      } as never);
    } catch (err) {
      this.onError(err);
    }
  }
}
