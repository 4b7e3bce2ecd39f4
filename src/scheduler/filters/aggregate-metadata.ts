/**
 * Reading host aggregate metadata as Nova does (utils.aggregate_metadata_get_by_host): a value
 * is a comma-separated list of alternatives, each trimmed. Split lists are cached per metadata
 * object, so a decision over many hosts sharing an aggregate splits each value once.
 */
import type { HostAggregate } from '../host-state.js';

const splitCache = new WeakMap<Record<string, string>, Map<string, readonly string[]>>();

/** The alternatives of metadata[key] in one aggregate ([] when the key is absent). */
export function metadataValues(agg: HostAggregate, key: string): readonly string[] {
  const md = agg.metadata;
  let byKey = splitCache.get(md);
  if (!byKey) splitCache.set(md, (byKey = new Map()));
  let v = byKey.get(key);
  if (v === undefined) {
    const raw = Object.prototype.hasOwnProperty.call(md, key) ? md[key] : undefined;
    v = raw === undefined || raw === null ? [] : String(raw).split(',').map((s) => s.trim());
    byKey.set(key, v);
  }
  return v;
}
