/**
 * Glance's JSON-patch dialects: v2.1 (`application/openstack-images-v2.1-json-patch`), a list
 * of `{op: add|replace|remove, path: "/attr", value}`, and the older v2.0 (draft 4), a list of
 * `{add|replace|remove: "/attr", value}` where `add` refuses an attribute already present.
 * Either is applied in order to an image's writable
 * attributes and extra properties. Parsing never touches the image; applying works on a draft
 * that the caller validates and saves as a whole, so a bad patch changes nothing.
 */
import { forbidden, conflict, invalid } from '../errors.js';
import { READ_ONLY, RESERVED, BASE_ATTRS } from './model.js';

export const PATCH_V21 = 'application/openstack-images-v2.1-json-patch';
export const PATCH_V20 = 'application/openstack-images-v2.0-json-patch';
export const PATCH_TYPES = [PATCH_V21, PATCH_V20];

export interface PatchOp {
  op: 'add' | 'replace' | 'remove';
  attr: string;
  value?: unknown;
  /** Draft-4 `add`: Conflict when the attribute is already present. */
  addOnly?: boolean;
}

const OPS = ['add', 'replace', 'remove'] as const;

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

/** Reads a draft-4 (v2.0) operation object into the v2.1 shape. */
function fromDraft4(o: Record<string, unknown>): Record<string, unknown> {
  const present = OPS.filter((k) => k in o);
  if (present.length !== 1) throw invalid('Operation objects must contain exactly one member named "add", "remove", or "replace".');
  const { [present[0]]: path, ...rest } = o;
  return { ...rest, op: present[0], path };
}

/**
 * Parses a patch body in the dialect of its media type; Invalid (400) when malformed,
 * Forbidden for read-only attributes.
 */
export function parsePatch(body: unknown, mediaType: string = PATCH_V21): PatchOp[] {
  if (!Array.isArray(body)) throw invalid('Request body must be a JSON array of operation objects.');
  const draft4 = mediaType === PATCH_V20;
  return body.map((raw) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('Operations must be JSON objects.');
    const o = draft4 ? fromDraft4(raw as Record<string, unknown>) : (raw as Record<string, unknown>);
    if (!('op' in o)) throw invalid("Unable to find 'op' in JSON Schema change");
    if (o.op !== 'add' && o.op !== 'replace' && o.op !== 'remove')
      throw invalid(`Invalid operation: \`${String(o.op)}\`: Operation must be one of "add", "remove", or "replace".`);
    if (!('path' in o)) throw invalid("Unable to find 'path' in JSON Schema change");
    const attr = decodePointer(o.path);
    if (o.op !== 'remove' && !('value' in o)) throw invalid("Unable to find 'value' in JSON Schema change");
    const allowed = new Set(['op', 'path', ...(o.op === 'remove' ? [] : ['value'])]);
    for (const k of Object.keys(o)) if (!allowed.has(k)) throw invalid(`Operation objects must not contain '${k}'.`);
    checkWritable(attr, false);
    return { op: o.op, attr, value: o.value, ...(draft4 && o.op === 'add' ? { addOnly: true } : {}) };
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
  for (const { op, attr, value, addOnly } of ops) {
    const base = BASE_ATTRS.has(attr);
    if (base && !PATCHABLE.has(attr)) throw forbidden(`Attribute '${attr}' is read-only.`);
    if (addOnly && (base || attr in out.properties)) throw conflict(`Property ${attr} already present.`);
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
