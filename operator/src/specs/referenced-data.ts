// The Secrets and ConfigMaps a pod template reads, and one checksum of their data on the template, so
// a rotated password or provider key rolls the pods (environment variables are read once at start).
// Objects the operator builds itself are left out: the component ConfigMap has its own checksum, and
// the feature-flag ConfigMap is reloaded live and must not roll pods. The data itself never enters
// here: the controller reads each object and passes a keyed digest (dataDigest), nothing else.
import { createHash, createHmac } from 'node:crypto';
import { stableJson } from '../util/stable-json.js';

export type DataSourceKind = 'Secret' | 'ConfigMap';

export interface DataSource {
  kind: DataSourceKind;
  name: string;
}

/** Digest per source, keyed by dataSourceKey; a source not in the map is unread. */
export type DataDigests = ReadonlyMap<string, string>;

export const dataSourceKey = (source: DataSource): string => `${source.kind}/${source.name}`;

/** Digest of a source that does not exist (yet): its creation changes the checksum. */
export const ABSENT_DIGEST = 'absent';

interface PodSpecShape {
  containers?: ContainerShape[];
  initContainers?: ContainerShape[];
  volumes?: VolumeShape[];
}
interface ContainerShape {
  env?: { valueFrom?: { secretKeyRef?: { name: string }; configMapKeyRef?: { name: string } } }[];
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
}
interface VolumeShape {
  secret?: { secretName: string };
  configMap?: { name: string };
  projected?: { sources?: { secret?: { name: string }; configMap?: { name: string } }[] };
}

/** Every Secret and ConfigMap the pod reads (env, envFrom, volumes), sorted, except `builtByOperator`
 * (names of ConfigMaps this ChatCluster's operator writes). Image pull Secrets are not read by the app. */
export function referencedDataSources(
  podSpec: PodSpecShape,
  builtByOperator: ReadonlySet<string>,
): DataSource[] {
  const found = new Map<string, DataSource>();
  const add = (kind: DataSourceKind, name: string | undefined): void => {
    if (!name || (kind === 'ConfigMap' && builtByOperator.has(name))) return;
    found.set(dataSourceKey({ kind, name }), { kind, name });
  };
  for (const container of [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])]) {
    for (const env of container.env ?? []) {
      add('Secret', env.valueFrom?.secretKeyRef?.name);
      add('ConfigMap', env.valueFrom?.configMapKeyRef?.name);
    }
    for (const from of container.envFrom ?? []) {
      add('Secret', from.secretRef?.name);
      add('ConfigMap', from.configMapRef?.name);
    }
  }
  for (const volume of podSpec.volumes ?? []) {
    add('Secret', volume.secret?.secretName);
    add('ConfigMap', volume.configMap?.name);
    for (const source of volume.projected?.sources ?? []) {
      add('Secret', source.secret?.name);
      add('ConfigMap', source.configMap?.name);
    }
  }
  return [...found.keys()].sort().map((key) => found.get(key)!);
}

/** The checksum of the sources' digests; an unread source counts as absent. */
export function referencedDataChecksum(sources: DataSource[], digests: DataDigests): string {
  const entries = sources.map((s) => [dataSourceKey(s), digests.get(dataSourceKey(s)) ?? ABSENT_DIGEST]);
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}

/** A digest of one object's data, keyed by its uid: a plain hash of a short password on a Deployment
 * (readable by more people than the Secret) could be reversed by guessing; without the uid it cannot.
 * Recreating the object (new uid) rolls the pods, as a new Secret should. */
export function dataDigest(
  uid: string,
  data: Record<string, string> | undefined,
  binaryData?: Record<string, string>,
): string {
  return createHmac('sha256', uid)
    .update(stableJson({ data: data ?? {}, binaryData: binaryData ?? {} }))
    .digest('hex');
}
