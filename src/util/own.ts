/**
 * `obj[key]` only when key is obj's own property, else undefined. Lookup tables indexed by
 * user-supplied names (actions, sort keys, metadata keys) must use this, so that names such as
 * `constructor` or `__proto__` find nothing instead of Object.prototype's members.
 */
export function own<T>(obj: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}
