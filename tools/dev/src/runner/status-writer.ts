// Writes workload status to the API server (server-side apply of the status subresource under the
// field manager `chatcluster-dev-runner`), only when it differs from what was last written for that
// object, so a steady state sends nothing.
import { isNotFound, type KubeClient } from '@chatcluster/operator';
import type { WorkloadSpec } from './workloads.js';

export const RUNNER_FIELD_MANAGER = 'chatcluster-dev-runner';

const API_VERSION = { Deployment: 'apps/v1', Rollout: 'argoproj.io/v1alpha1' } as const;

export class StatusWriter {
  /** `<key>/<uid>` → the JSON last written. */
  private readonly written = new Map<string, string>();

  constructor(private readonly client: KubeClient) {}

  /** Writes if changed; resolves true when a request was sent. A deleted workload is not an error. */
  async write(workload: WorkloadSpec, status: Record<string, unknown>): Promise<boolean> {
    const id = `${workload.key}/${workload.uid}`;
    const json = JSON.stringify(status);
    if (this.written.get(id) === json) return false;
    try {
      await this.client.applyStatus({
        apiVersion: API_VERSION[workload.kind],
        kind: workload.kind,
        metadata: { name: workload.name, namespace: workload.namespace },
        status,
      } as never);
      this.written.set(id, json);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  forget(workloadKey: string): void {
    for (const id of this.written.keys()) if (id.startsWith(`${workloadKey}/`)) this.written.delete(id);
  }
}
