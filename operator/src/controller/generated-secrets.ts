// Creates the Secrets the operator generates (specs/generated-secrets.ts) when they are missing, and
// never touches an existing one: a create that finds the Secret (409) leaves its value as it is. The
// operator has `create` on Secrets and no read: it learns that a Secret exists from the 409.
import type { ChatCluster } from '../api/types.js';
import { isConflict, type KubeClient } from '../kube/client.js';
import { generatedSecrets } from '../specs/generated-secrets.js';

/** How long a Secret known to exist is not asked about again (a deleted one is recreated after it). */
const RECHECK_MS = 10 * 60_000;

export class GeneratedSecrets {
  /** `uid/name` → when the Secret was last known to exist. */
  readonly #known = new Map<string, number>();

  constructor(
    private readonly client: KubeClient,
    private readonly now: () => number = Date.now,
  ) {}

  /** Creates the ChatCluster's missing generated Secrets; returns the names it created. */
  async ensure(cluster: ChatCluster): Promise<string[]> {
    const created: string[] = [];
    for (const secret of generatedSecrets(cluster)) {
      const key = `${cluster.metadata.uid}/${secret.metadata.name}`;
      const knownAt = this.#known.get(key);
      if (knownAt !== undefined && this.now() - knownAt < RECHECK_MS) continue;
      try {
        await this.client.create(secret);
        created.push(secret.metadata.name);
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      this.#known.set(key, this.now());
    }
    return created;
  }

  forget(uid: string): void {
    for (const key of this.#known.keys()) if (key.startsWith(`${uid}/`)) this.#known.delete(key);
  }
}
