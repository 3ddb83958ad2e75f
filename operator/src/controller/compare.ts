// Decides, without a request, whether a child object already is as desired. Two checks:
// - the desired-hash annotation matches, so what is desired did not change since the last apply
//   (this also catches fields the operator stopped setting, which a subset check cannot see);
// - every desired field is present in the observed object with an equal value, so nobody edited or
//   removed an owned field by hand. Values the API server normalises (quantities) compare by value;
//   fields the server or other controllers add are ignored.
import { DESIRED_HASH_ANNOTATION, type KubeObject } from '../specs/meta.js';

export function isUpToDate(desired: KubeObject, observed: KubeObject | undefined): boolean {
  if (!observed) return false;
  const want = desired.metadata.annotations?.[DESIRED_HASH_ANNOTATION];
  if (want === undefined || observed.metadata.annotations?.[DESIRED_HASH_ANNOTATION] !== want) return false;
  return isSubset(desired, observed);
}

export function isSubset(desired: unknown, observed: unknown): boolean {
  if (desired === observed) return true;
  if (Array.isArray(desired)) {
    if (!Array.isArray(observed)) return false;
    return listIsSubset(desired, observed);
  }
  if (desired !== null && typeof desired === 'object') {
    if (observed === null || typeof observed !== 'object' || Array.isArray(observed)) return false;
    const o = observed as Record<string, unknown>;
    return Object.entries(desired as Record<string, unknown>).every(
      ([key, value]) => value === undefined || isSubset(value, o[key]),
    );
  }
  if (typeof desired === 'string' && typeof observed === 'string') return sameQuantity(desired, observed);
  return false;
}

/** Lists of named items (containers, env, ports, volumes) match by name, so items others added are
 * tolerated; other lists must match item by item. */
function listIsSubset(desired: unknown[], observed: unknown[]): boolean {
  const named = desired.every((item) => typeof (item as { name?: unknown } | null)?.name === 'string');
  if (named && desired.length > 0) {
    const byName = new Map(observed.map((item) => [(item as { name?: unknown } | null)?.name, item]));
    const order = desired.map((item) => observed.indexOf(byName.get((item as { name: string }).name)));
    // Same relative order too: the container order decides which is the main one.
    return (
      desired.every((item) => isSubset(item, byName.get((item as { name: string }).name))) && isSorted(order)
    );
  }
  return desired.length === observed.length && desired.every((item, i) => isSubset(item, observed[i]));
}

const isSorted = (values: number[]): boolean => values.every((v, i) => i === 0 || values[i - 1]! < v);

const QUANTITY = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const MULTIPLIERS: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The numeric value of a Kubernetes quantity ("500m" = 0.5, "1Gi" = 2^30), or undefined. */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]) * MULTIPLIERS[match[2] ?? '']!;
  return Number.isFinite(value) ? value : undefined;
}

/** "0.5" and "500m" are the same CPU; the API server stores the canonical form. */
function sameQuantity(a: string, b: string): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (x === undefined || y === undefined) return false;
  return Math.abs(x - y) <= Math.abs(x) * 1e-9;
}
