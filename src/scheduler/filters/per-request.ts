/**
 * Caches a value derived from a request-scoped object (the RequestSpec, its hints, its flavor),
 * computed once per object and shared by every host of the decision. A decision calls a filter
 * once per host with the same spec, so the last key is checked first (no hashing in the hot
 * path); other live keys fall back to a WeakMap, which keeps nothing alive after the request.
 * The derived value must depend only on the key and the key must not be mutated after use.
 */
export function perRequest<K extends object, V>(derive: (key: K) => V): (key: K) => V {
  let lastKey: K | null = null;
  let lastValue: V | undefined;
  const byKey = new WeakMap<K, V>();
  return (key: K): V => {
    if (key === lastKey) return lastValue as V;
    let v = byKey.get(key);
    if (v === undefined && !byKey.has(key)) {
      v = derive(key);
      byKey.set(key, v);
    }
    lastKey = key;
    lastValue = v;
    return v as V;
  };
}
