// Digests of the Secrets and ConfigMaps the ChatClusters' pods read, for the pod template's checksum.
// Each object is read by name (RBAC: get, no list or watch, so the operator cannot enumerate Secrets)
// when a reconcile first needs it, then kept as a digest only: values are never stored, logged or put
// in the status. Kubernetes cannot watch single Secrets without list/watch on all of them, so changes
// are found by refresh(), which the operator runs periodically (REFERENCED_DATA_POLL_INTERVAL_MS), and
// which names the ChatClusters whose data changed so they are reconciled at once.
import { isNotFound, type KubeClient } from '../kube/client.js';
import { resourceTypeOf } from '../kube/resources.js';
import {
  ABSENT_DIGEST,
  dataDigest,
  dataSourceKey,
  type DataDigests,
  type DataSource,
} from '../specs/referenced-data.js';

interface Entry {
  namespace: string;
  source: DataSource;
  digest: string;
  /** Keys (namespace/name) of the ChatClusters whose pods read it. */
  readers: Set<string>;
}

interface DataObject {
  metadata: { uid: string };
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export class ReferencedData {
  /** By namespace/kind/name. */
  readonly #entries = new Map<string, Entry>();
  #refreshing: Promise<string[]> | undefined;

  constructor(private readonly client: KubeClient) {}

  /** The digests of `sources` for the ChatCluster `clusterKey`, read on first use. */
  async digests(clusterKey: string, namespace: string, sources: DataSource[]): Promise<DataDigests> {
    const wanted = new Set(sources.map((s) => entryKey(namespace, s)));
    this.#dropReader(clusterKey, (key) => !wanted.has(key));
    const digests = new Map<string, string>();
    await Promise.all(
      sources.map(async (source) => {
        const key = entryKey(namespace, source);
        let entry = this.#entries.get(key);
        if (!entry) {
          const digest = await this.#read(namespace, source);
          entry = this.#entries.get(key) ?? { namespace, source, digest, readers: new Set() };
          this.#entries.set(key, entry);
        }
        entry.readers.add(clusterKey);
        digests.set(dataSourceKey(source), entry.digest);
      }),
    );
    return digests;
  }

  /** A deleted ChatCluster reads nothing any more. */
  forget(clusterKey: string): void {
    this.#dropReader(clusterKey, () => true);
  }

  /** Reads every object again; resolves to the ChatClusters whose data changed. A failed read keeps
   * the previous digest (retried next time): an API hiccup must not roll pods. */
  refresh(onError: (err: unknown) => void = () => {}): Promise<string[]> {
    this.#refreshing ??= this.#refreshOnce(onError).finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #refreshOnce(onError: (err: unknown) => void): Promise<string[]> {
    const changed = new Set<string>();
    for (const entry of [...this.#entries.values()]) {
      try {
        const digest = await this.#read(entry.namespace, entry.source);
        if (digest === entry.digest) continue;
        entry.digest = digest;
        for (const reader of entry.readers) changed.add(reader);
      } catch (err) {
        onError(err);
      }
    }
    return [...changed];
  }

  async #read(namespace: string, source: DataSource): Promise<string> {
    const type = resourceTypeOf({ apiVersion: 'v1', kind: source.kind });
    try {
      const object = await this.client.get<DataObject>(type, namespace, source.name);
      return dataDigest(object.metadata.uid, object.data, object.binaryData);
    } catch (err) {
      if (isNotFound(err)) return ABSENT_DIGEST;
      throw err;
    }
  }

  #dropReader(clusterKey: string, drop: (key: string) => boolean): void {
    for (const [key, entry] of this.#entries) {
      if (!drop(key) || !entry.readers.delete(clusterKey)) continue;
      if (entry.readers.size === 0) this.#entries.delete(key);
    }
  }
}

const entryKey = (namespace: string, source: DataSource): string => `${namespace}/${dataSourceKey(source)}`;
