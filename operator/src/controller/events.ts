// Kubernetes Events on a ChatCluster for what the operator did (created, updated, corrected, pruned,
// fell back), so `kubectl describe chat` tells the story. Recording is best effort: a failed Event
// never fails a reconcile. Repeats are aggregated as client-go's recorder does: the same event (object,
// type, reason, message) again bumps count and lastTimestamp of the Event already written, instead of
// writing one more object; an Event the API server has since expired (or a repeat this replica never
// wrote, e.g. before a restart) starts a new one.
import { randomBytes } from 'node:crypto';
import { isNotFound, type KubeClient } from '../kube/client.js';
import { EVENT } from '../kube/resources.js';
import type { ChatCluster } from '../api/types.js';

export type EventType = 'Normal' | 'Warning';

export interface RecordedEvent {
  type: EventType;
  reason: string;
  message: string;
}

/** Events remembered for aggregation, as client-go's cache (LRU of 4096). */
const REMEMBERED_EVENTS = 4096;

interface Written {
  namespace: string;
  name: string;
  count: number;
}

export class EventRecorder {
  /** By aggregation key, least recently used first; each entry also serialises its key's writes. */
  readonly #written = new Map<string, Promise<Written | undefined>>();

  constructor(
    private readonly client: KubeClient,
    private readonly instance: string,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  async record(cluster: ChatCluster, event: RecordedEvent): Promise<void> {
    // The API server rejects Event messages above 1 KiB.
    const message = event.message.length > 1000 ? `${event.message.slice(0, 997)}...` : event.message;
    const key = JSON.stringify([cluster.metadata.uid, event.type, event.reason, message]);
    const previous = this.#written.get(key) ?? Promise.resolve(undefined);
    this.#written.delete(key); // re-inserted last: most recently used
    const next = previous.then((written) => this.#write(cluster, { ...event, message }, written));
    this.#written.set(key, next);
    if (this.#written.size > REMEMBERED_EVENTS) this.#written.delete(this.#written.keys().next().value!);
    await next;
  }

  async #write(
    cluster: ChatCluster,
    event: RecordedEvent,
    written: Written | undefined,
  ): Promise<Written | undefined> {
    const now = new Date().toISOString();
    try {
      if (written) {
        const count = written.count + 1;
        try {
          await this.client.mergePatch(EVENT, written.namespace, written.name, { count, lastTimestamp: now });
          return { ...written, count };
        } catch (err) {
          if (!isNotFound(err)) throw err; // expired (the API server keeps Events for an hour): new one
        }
      }
      const name = `${cluster.metadata.name}.${randomBytes(8).toString('hex')}`;
      await this.client.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: cluster.metadata.namespace },
        involvedObject: {
          apiVersion: cluster.apiVersion,
          kind: cluster.kind,
          name: cluster.metadata.name,
          namespace: cluster.metadata.namespace,
          uid: cluster.metadata.uid,
        },
        type: event.type,
        reason: event.reason,
        message: event.message,
        source: { component: 'chatcluster-operator' },
        reportingComponent: 'chatcluster.io/operator',
        reportingInstance: this.instance,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      } as never);
      return { namespace: cluster.metadata.namespace, name, count: 1 };
    } catch (err) {
      this.onError(err);
      return written;
    }
  }
}
