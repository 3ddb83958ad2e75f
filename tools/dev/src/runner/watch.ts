// Watching the local API server: one informer (list, then watch, with resume and relist) per kind the
// runner reads, reusing the operator's Informer. Rollouts are watched only when the Argo Rollouts CRD
// is served, as on a real cluster without Argo the operator falls back to Deployments.
import {
  Informer,
  OTHER_TYPES,
  OWNED_TYPES,
  type CachedObject,
  type KubeClient,
  type ResourceType,
} from '@chatcluster/operator';
import type {
  ConfigMapObject,
  DeploymentObject,
  RolloutObject,
  SecretObject,
  ServiceObject,
} from './types.js';

const typeOf = (kind: string): ResourceType => {
  const type = [...OWNED_TYPES, ...OTHER_TYPES].find((t) => t.kind === kind);
  if (!type) throw new Error(`dev runner: unknown kind ${kind}`);
  return type;
};

type Cached<T> = T & CachedObject;

export interface ClusterViewOptions {
  /** One namespace, or every namespace when undefined. */
  namespace?: string;
  /** Called after any watched object changed (coalesce before acting). */
  onChange: () => void;
  onError: (what: string, err: unknown) => void;
}

export class ClusterView {
  readonly deployments: Informer<Cached<DeploymentObject>>;
  readonly configMaps: Informer<Cached<ConfigMapObject>>;
  readonly secrets: Informer<Cached<SecretObject>>;
  readonly services: Informer<Cached<ServiceObject>>;
  rollouts: Informer<Cached<RolloutObject>> | undefined;

  private constructor(
    private readonly client: KubeClient,
    private readonly options: ClusterViewOptions,
  ) {
    this.deployments = this.informer('Deployment');
    this.configMaps = this.informer('ConfigMap');
    this.secrets = this.informer('Secret');
    this.services = this.informer('Service');
  }

  /** Starts every informer and resolves once each has listed once. */
  static async start(client: KubeClient, options: ClusterViewOptions): Promise<ClusterView> {
    const view = new ClusterView(client, options);
    if (await view.servesRollouts()) view.rollouts = view.informer('Rollout');
    const all = view.all();
    for (const informer of all) informer.start();
    await Promise.all(all.map((informer) => informer.waitForSync()));
    return view;
  }

  configMap(namespace: string, name: string): ConfigMapObject | undefined {
    return this.configMaps.get(namespace, name);
  }

  secret(namespace: string, name: string): SecretObject | undefined {
    return this.secrets.get(namespace, name);
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((informer) => informer.stop()));
  }

  private all(): Informer<CachedObject>[] {
    return [this.deployments, this.configMaps, this.secrets, this.services, this.rollouts].filter(
      (i): i is Informer<Cached<never>> => i !== undefined,
    ) as unknown as Informer<CachedObject>[];
  }

  private informer<T extends CachedObject>(kind: string): Informer<T> {
    const type = typeOf(kind);
    return new Informer<T>(this.client, type, {
      ...(this.options.namespace ? { namespace: this.options.namespace } : {}),
      onError: (err) => this.options.onError(`watching ${type.plural}`, err),
    }).onChange(() => this.options.onChange());
  }

  private async servesRollouts(): Promise<boolean> {
    try {
      const list = await this.client.getPath<{ resources?: { name: string }[] }>(
        '/apis/argoproj.io/v1alpha1',
      );
      return (list.resources ?? []).some((r) => r.name === 'rollouts');
    } catch {
      return false;
    }
  }
}
