/**
 * Request schemas of the servers resource, per microversion (Nova's
 * nova/api/openstack/compute/schemas/servers.py, reduced to what nova-ts serves).
 * Each builder returns the same object for the same microversion so the validator compiles
 * it once.
 */
import { S } from '../../http/validate.js';
import type { Microversion } from '../../http/microversion.js';
import type { InstancePatch } from '../../db/instances.js';

/** Nova's parameter_types.boolean: JSON booleans and the usual spellings as strings. */
export const BOOLEAN = {
  enum: [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes',
    false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'],
} as const;

export function parseBool(v: unknown): boolean {
  return v === true || (typeof v === 'string' && ['true', '1', 'on', 'yes'].includes(v.toLowerCase()));
}

const positiveInt = { type: ['integer', 'string'], pattern: '^[0-9]*$', minimum: 1, minLength: 1 };
const description = { type: ['string', 'null'], minLength: 0, maxLength: 255, pattern: '^[^\\x00-\\x1f\\x7f]*$' };
const accessIPv4 = { type: 'string', format: 'ipv4' };
const accessIPv6 = { type: 'string', format: 'ipv6' };
const diskConfig = { type: 'string', enum: ['AUTO', 'MANUAL'] };
/** Nova's parameter_types.hostname (2.90): letters, digits, '-', '.', '_'. */
export const HOSTNAME = { type: 'string', minLength: 2, maxLength: 63, pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$' };
/** A server tag: 1-60 characters, no '/' or ','. */
export const TAG = { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^,/]*$' };
export const MAX_TAGS = 50;
const trustedCerts = {
  type: ['array', 'null'], minItems: 1, maxItems: 50, uniqueItems: true,
  items: { type: 'string', minLength: 1 },
};
const schedulerHints = {
  type: 'object',
  properties: {
    group: S.uuid,
    different_host: { oneOf: [S.uuid, { type: 'array', items: S.uuid }] },
    same_host: { oneOf: [S.uuid, { type: 'array', items: S.uuid }] },
    query: { type: ['string', 'object'] },
    target_cell: { type: 'string', minLength: 1, maxLength: 255 },
    different_cell: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    build_near_host_ip: { type: 'string', oneOf: [{ format: 'ipv4' }, { format: 'ipv6' }] },
    cidr: { type: 'string', pattern: '^/[0-9a-f.:]+$' },
  },
  additionalProperties: true,
};

function bdmV2(mv: Microversion) {
  const props: Record<string, unknown> = {
    source_type: { type: 'string', enum: ['volume', 'image', 'snapshot', 'blank'] },
    uuid: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._-]*$' },
    image_id: S.uuid,
    destination_type: { type: 'string', enum: ['local', 'volume'] },
    guest_format: { type: 'string', maxLength: 255 },
    device_type: { type: 'string', maxLength: 255 },
    disk_bus: { type: 'string', maxLength: 255 },
    boot_index: { type: ['integer', 'string', 'null'], pattern: '^-?[0-9]+$' },
    device_name: { type: 'string', minLength: 1, maxLength: 255 },
    volume_size: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
    delete_on_termination: BOOLEAN,
    no_device: {},
    connection_info: { type: 'string', maxLength: 16777215 },
    snapshot_id: S.uuid,
    volume_id: S.uuid,
  };
  if (mv.within('2.32', '2.32') || mv.atLeast('2.42')) props.tag = TAG;
  if (mv.atLeast('2.67')) props.volume_type = { type: ['string', 'null'], minLength: 0, maxLength: 255 };
  return { type: 'array', items: { type: 'object', properties: props, additionalProperties: false } };
}

/** Nova's legacy block_device_mapping (v1) entries. */
const legacyBdm = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      virtual_name: { type: 'string', maxLength: 255 },
      volume_id: S.uuid,
      snapshot_id: S.uuid,
      volume_size: { type: ['integer', 'string'], pattern: '^[0-9]+$', minimum: 1 },
      device_name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9._/-]*$' },
      delete_on_termination: BOOLEAN,
      no_device: {},
      connection_info: { type: 'string', maxLength: 16777215 },
    },
    additionalProperties: false,
  },
};

function networksSchema(mv: Microversion) {
  const item: Record<string, unknown> = {
    fixed_ip: { type: 'string', oneOf: [{ format: 'ipv4' }, { format: 'ipv6' }] },
    port: { oneOf: [S.uuid, { type: 'null' }] },
    uuid: { type: 'string' },
  };
  if (mv.within('2.32', '2.36') || mv.atLeast('2.42')) item.tag = TAG;
  const list = { type: 'array', items: { type: 'object', properties: item, additionalProperties: false } };
  return mv.atLeast('2.37') ? { oneOf: [list, { type: 'string', enum: ['none', 'auto'] }] } : list;
}

const createCache = new Map<string, object>();

/** The body of POST /servers for this microversion. */
export function createSchema(mv: Microversion): object {
  const key = mv.toString();
  const hit = createCache.get(key);
  if (hit) return hit;
  const server: Record<string, unknown> = {
    name: S.name,
    imageRef: { oneOf: [S.uuid, { type: 'string', maxLength: 0 }] },
    flavorRef: { type: ['string', 'integer'], minLength: 1 },
    adminPass: { type: 'string' },
    metadata: S.metadata,
    networks: networksSchema(mv),
    'OS-DCF:diskConfig': diskConfig,
    accessIPv4,
    accessIPv6,
    availability_zone: { type: 'string', minLength: 1, maxLength: 255 },
    block_device_mapping: legacyBdm,
    block_device_mapping_v2: bdmV2(mv),
    config_drive: BOOLEAN,
    key_name: { type: 'string', minLength: 1, maxLength: 255 },
    min_count: positiveInt,
    max_count: positiveInt,
    return_reservation_id: BOOLEAN,
    security_groups: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string', minLength: 1, maxLength: 255 } }, additionalProperties: false },
    },
    user_data: { type: 'string', maxLength: 65535 * 2 },
  };
  if (mv.within('2.1', '2.56'))
    server.personality = {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, contents: { type: 'string' } },
        additionalProperties: false,
      },
    };
  if (mv.atLeast('2.19')) server.description = description;
  if (mv.atLeast('2.52')) server.tags = { type: 'array', items: TAG, maxItems: MAX_TAGS };
  if (mv.atLeast('2.63')) server.trusted_image_certificates = trustedCerts;
  if (mv.atLeast('2.74')) {
    server.host = { type: 'string', minLength: 1, maxLength: 255 };
    server.hypervisor_hostname = { type: 'string', minLength: 1, maxLength: 255 };
  }
  if (mv.atLeast('2.90')) server.hostname = HOSTNAME;
  const required = ['name', 'flavorRef'];
  if (mv.atLeast('2.37')) required.push('networks');
  const schema = {
    type: 'object',
    properties: {
      server: { type: 'object', properties: server, required, additionalProperties: false },
      'os:scheduler_hints': schedulerHints,
      'OS-SCH-HNT:scheduler_hints': schedulerHints,
    },
    required: ['server'],
    additionalProperties: false,
  };
  createCache.set(key, schema);
  return schema;
}

const updateCache = new Map<string, object>();

/** The body of PUT /servers/{id}. */
export function updateSchema(mv: Microversion): object {
  const key = mv.toString();
  const hit = updateCache.get(key);
  if (hit) return hit;
  const server: Record<string, unknown> = { name: S.name, 'OS-DCF:diskConfig': diskConfig, accessIPv4, accessIPv6 };
  if (mv.atLeast('2.19')) server.description = description;
  if (mv.atLeast('2.90')) server.hostname = HOSTNAME;
  const schema = {
    type: 'object',
    properties: { server: { type: 'object', properties: server, additionalProperties: false } },
    required: ['server'],
    additionalProperties: false,
  };
  updateCache.set(key, schema);
  return schema;
}

const rebuildCache = new Map<string, object>();

/** The body of the rebuild action. */
export function rebuildSchema(mv: Microversion): object {
  const key = mv.toString();
  const hit = rebuildCache.get(key);
  if (hit) return hit;
  const rebuild: Record<string, unknown> = {
    name: S.name,
    imageRef: S.uuid,
    adminPass: { type: 'string' },
    metadata: S.metadata,
    preserve_ephemeral: BOOLEAN,
    'OS-DCF:diskConfig': diskConfig,
    accessIPv4,
    accessIPv6,
  };
  if (mv.within('2.1', '2.56'))
    rebuild.personality = {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, contents: { type: 'string' } }, additionalProperties: false },
    };
  if (mv.atLeast('2.19')) rebuild.description = description;
  if (mv.atLeast('2.54')) rebuild.key_name = { type: ['string', 'null'], minLength: 1, maxLength: 255 };
  if (mv.atLeast('2.57')) rebuild.user_data = { type: ['string', 'null'], maxLength: 65535 * 2 };
  if (mv.atLeast('2.63')) rebuild.trusted_image_certificates = trustedCerts;
  if (mv.atLeast('2.90')) rebuild.hostname = HOSTNAME;
  const schema = {
    type: 'object',
    properties: { rebuild: { type: 'object', properties: rebuild, required: ['imageRef'], additionalProperties: false } },
    required: ['rebuild'],
    additionalProperties: false,
  };
  rebuildCache.set(key, schema);
  return schema;
}

/**
 * Decodes base64 user data as Nova checks it; null when it is not valid base64. Whitespace
 * (line breaks of MIME-style encoders) is allowed.
 */
export function decodeUserData(s: string): Buffer | null {
  const t = s.replace(/\s+/g, '');
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return null;
  return Buffer.from(t, 'base64');
}

export const MAX_USER_DATA_BYTES = 65535;

/**
 * An IPv6 address in its canonical text form (RFC 5952: lower case, longest zero run
 * compressed, embedded IPv4 as hex), as Nova stores accessIPv6. The input is already
 * schema-checked as IPv6; anything else is returned unchanged.
 */
export function canonicalIPv6(addr: string): string {
  try {
    return new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  } catch {
    return addr;
  }
}

/** The instance columns that the fields shared by update and rebuild set (absent fields: none). */
export function patchOfServerFields(f: Record<string, any>): InstancePatch {
  const patch: InstancePatch = {};
  if (f.name !== undefined) patch.display_name = f.name;
  if (f.description !== undefined) patch.display_description = f.description;
  if (f.hostname !== undefined) patch.hostname = f.hostname;
  if (f.accessIPv4 !== undefined) patch.access_ip_v4 = f.accessIPv4;
  if (f.accessIPv6 !== undefined) patch.access_ip_v6 = canonicalIPv6(f.accessIPv6);
  if (f['OS-DCF:diskConfig'] !== undefined) patch.auto_disk_config = f['OS-DCF:diskConfig'] === 'AUTO' ? 1 : 0;
  return patch;
}
