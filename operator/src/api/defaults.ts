// Applies the CRD schema's defaults the way the API server does (structural defaulting): a missing
// property with a default gets a copy of it, then defaulting recurses into every present value, so
// nested defaults inside a defaulted `{}` apply too. Used for objects that did not come from the API
// server (unit tests, examples) so the builders always see a complete spec.
import { chatClusterSchema, type JsonSchema } from './chatcluster-crd.js';
import type { ChatClusterSpec } from './types.js';

export function applyDefaults(value: unknown, schema: JsonSchema): unknown {
  if (Array.isArray(value)) {
    return schema.items ? value.map((item) => applyDefaults(item, schema.items!)) : value;
  }
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (!(key in out) && prop.default !== undefined) out[key] = structuredClone(prop.default);
  }
  for (const key of Object.keys(out)) {
    const prop = schema.properties?.[key] ?? schema.additionalProperties;
    if (prop) out[key] = applyDefaults(out[key], prop);
  }
  return out;
}

/** A ChatCluster spec as the API server would store it, from what a person wrote. */
export function defaultedSpec(spec: unknown): ChatClusterSpec {
  const specSchema = chatClusterSchema().properties?.spec;
  if (!specSchema) throw new Error('the ChatCluster schema has no spec');
  return applyDefaults(spec, specSchema) as ChatClusterSpec;
}
