// A container's environment as the kubelet builds it: envFrom first (ConfigMaps and Secrets, with
// prefix), then env in order (literal values with $(VAR) expansion, secretKeyRef, configMapKeyRef,
// fieldRef). A missing reference that is not optional fails the start, as the kubelet's
// CreateContainerConfigError does; the replica retries once the object appears.
import { hostname } from 'node:os';
import type { ConfigMapObject, Container, SecretObject } from './types.js';

export interface EnvSources {
  configMap(namespace: string, name: string): ConfigMapObject | undefined;
  secret(namespace: string, name: string): SecretObject | undefined;
}

export interface PodIdentity {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccountName?: string;
}

export interface ResolvedEnv {
  env: Record<string, string>;
  /** Things the kubelet would have done that the runner did not (unsupported sources): logged. */
  warnings: string[];
}

export class EnvResolutionError extends Error {
  override name = 'EnvResolutionError';
}

/** Names the kubelet accepts from envFrom; other keys are skipped (it records an event). */
const VALID_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

const decode = (base64: string): string => Buffer.from(base64, 'base64').toString('utf8');

function secretData(secret: SecretObject): Record<string, string> {
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, decode(v)]));
}

/** `$(VAR)` becomes the value of an earlier variable, `$$(VAR)` a literal `$(VAR)`; unknown references stay. */
export function expandReferences(value: string, defined: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)/g, (match: string, name?: string) => {
    if (match === '$$') return '$';
    return name !== undefined && Object.hasOwn(defined, name) ? defined[name]! : match;
  });
}

function fieldValue(path: string, pod: PodIdentity): string | undefined {
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) return (keyed[1] === 'labels' ? pod.labels : pod.annotations)[keyed[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.name;
    case 'metadata.namespace':
      return pod.namespace;
    case 'metadata.uid':
      return pod.uid;
    case 'spec.nodeName':
      return hostname();
    case 'spec.serviceAccountName':
      return pod.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
    case 'status.hostIP':
    case 'status.hostIPs':
      return '127.0.0.1';
    default:
      return undefined;
  }
}

export function resolveEnv(container: Container, pod: PodIdentity, sources: EnvSources): ResolvedEnv {
  const env: Record<string, string> = {};
  const warnings: string[] = [];
  const ns = pod.namespace;

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let data: Record<string, string> | undefined;
    if (from.configMapRef) {
      data = sources.configMap(ns, from.configMapRef.name)?.data;
      if (!data && !from.configMapRef.optional)
        throw new EnvResolutionError(`configmap "${from.configMapRef.name}" not found`);
    } else if (from.secretRef) {
      const secret = sources.secret(ns, from.secretRef.name);
      data = secret && secretData(secret);
      if (!data && !from.secretRef.optional)
        throw new EnvResolutionError(`secret "${from.secretRef.name}" not found`);
    }
    for (const [key, value] of Object.entries(data ?? {})) {
      if (VALID_NAME.test(prefix + key)) env[prefix + key] = value;
      else warnings.push(`skipped envFrom key "${key}": not a valid variable name`);
    }
  }

  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (!from) {
      env[variable.name] = expandReferences(variable.value ?? '', env);
    } else if (from.secretKeyRef || from.configMapKeyRef) {
      const ref = (from.secretKeyRef ?? from.configMapKeyRef)!;
      const kind = from.secretKeyRef ? 'secret' : 'configmap';
      const data = from.secretKeyRef
        ? ((s) => s && secretData(s))(sources.secret(ns, ref.name))
        : sources.configMap(ns, ref.name)?.data;
      const value = data?.[ref.key];
      if (value !== undefined) env[variable.name] = value;
      else if (!ref.optional) {
        throw new EnvResolutionError(
          data
            ? `couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name} (for ${variable.name})`
            : `${kind} "${ref.name}" not found (for ${variable.name})`,
        );
      }
    } else if (from.fieldRef) {
      const value = fieldValue(from.fieldRef.fieldPath, pod);
      if (value === undefined)
        warnings.push(`${variable.name}: fieldRef ${from.fieldRef.fieldPath} unsupported`);
      else env[variable.name] = value;
    } else if (from.resourceFieldRef) {
      warnings.push(`${variable.name}: resourceFieldRef is not supported by the dev runner; left unset`);
    }
  }
  return { env, warnings };
}
