/**
 * Glance's JSON-patch dialect (`application/openstack-images-v2.1-json-patch`): a list of
 * `{op: add|replace|remove, path: "/attr", value}` applied in order to an image's writable
 * attributes and extra properties. Parsing never touches the image; applying works on a draft
 * that the caller validates and saves as a whole, so a bad patch changes nothing.
 */
import { forbidden, conflict, invalid } from '../errors.js';
import { READ_ONLY, RESERVED, BASE_ATTRS } from './model.js';

export const PATCH_TYPES = ['application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch'];

export interface PatchOp {
  op: 'add' | 'replace' | 'remove';
  attr: string;
  value?: unknown;
}

/** Writable base attributes a patch may set (not remove). */
const PATCHABLE = new Set(['name', 'visibility', 'protected', 'os_hidden', 'min_disk', 'min_ram', 'disk_format', 'container_format', 'tags', 'owner']);

/** 403 for attributes no client may write; `id` is read-only once the image exists. */
export function checkWritable(attr: string, creating: boolean): void {
  if (RESERVED.includes(attr) || attr.startsWith('os_glance')) throw forbidden(`Attribute '${attr}' is reserved.`);
  if (READ_ONLY.includes(attr) || (!creating && attr === 'id')) throw forbidden(`Attribute '${attr}' is read-only.`);
}

function decodePointer(path: unknown): string {
  if (typeof path !== 'string' || !path.startsWith('/')) throw invalid(`Pointer \`${String(path)}\` does not start with "/".`);
  const parts = path.slice(1).split('/');
  if (parts.length !== 1 || parts[0] === '') throw invalid(`Invalid JSON pointer for this resource: '${path}'`);
  if (/~[^01]|~$/.test(parts[0])) throw invalid(`Invalid JSON pointer for this resource: '${path}'`);
  return parts[0].replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Parses a patch body; Invalid (400) when malformed, Forbidden for read-only attributes. */
export function parsePatch(body: unknown): PatchOp[] {
  if (!Array.isArray(body)) throw invalid('Request body must be a JSON array of operation objects.');
  return body.map((raw) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('Operations must be JSON objects.');
    const o = raw as Record<string, unknown>;
    if (!('op' in o)) throw invalid("Unable to find 'op' in JSON Schema change");
    if (o.op !== 'add' && o.op !== 'replace' && o.op !== 'remove')
      throw invalid(`Invalid operation: \`${String(o.op)}\`: Operation must be one of "add", "remove", or "replace".`);
    if (!('path' in o)) throw invalid("Unable to find 'path' in JSON Schema change");
    const attr = decodePointer(o.path);
    if (o.op !== 'remove' && !('value' in o)) throw invalid("Unable to find 'value' in JSON Schema change");
    const allowed = new Set(['op', 'path', ...(o.op === 'remove' ? [] : ['value'])]);
    for (const k of Object.keys(o)) if (!allowed.has(k)) throw invalid(`Operation objects must not contain '${k}'.`);
    checkWritable(attr, false);
    return { op: o.op, attr, value: o.value };
  });
}

/** The writable part of an image that a patch acts on. */
export type Draft = Record<string, unknown> & { properties: Record<string, string> };

/**
 * Applies ops to a copy of draft. Conflict (409) when replacing or removing an extra property
 * that does not exist; Forbidden when removing a base attribute.
 */
export function applyPatch(draft: Draft, ops: PatchOp[]): Draft {
  const out: Draft = { ...draft, properties: { ...draft.properties } };
  for (const { op, attr, value } of ops) {
    const base = BASE_ATTRS.has(attr);
    if (base && !PATCHABLE.has(attr)) throw forbidden(`Attribute '${attr}' is read-only.`);
    if (op === 'remove') {
      if (base) throw forbidden(`Property ${attr} may not be removed.`);
      if (!(attr in out.properties)) throw conflict(`Property ${attr} does not exist.`);
      delete out.properties[attr];
    } else if (base) {
      out[attr] = value;
    } else {
      if (op === 'replace' && !(attr in out.properties)) throw conflict(`Property ${attr} does not exist.`);
      out.properties[attr] = value as string;
    }
  }
  return out;
}
