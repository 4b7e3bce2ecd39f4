/** Request schemas of the flavor APIs, with Nova's rules, and helpers that normalise values. */
import { invalid } from '../../errors.js';

export const MAX_INT = 2147483647;

const intLike = { type: ['integer', 'string'], pattern: '^[0-9]+$' } as const;

/** Nova's boolean parameter: JSON booleans or their usual string spellings. */
export const booleanLike = {
  type: ['boolean', 'string'],
  enum: [true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'],
} as const;

export function toBool(v: unknown): boolean {
  return v === true || (typeof v === 'string' && ['true', '1', 'on', 'yes'].includes(v.toLowerCase()));
}

const description = {
  type: ['string', 'null'],
  maxLength: 65535,
  pattern: '^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$',
} as const;

const flavorProps = {
  name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^(?![\\s])[\\s\\S]*(?<![\\s])$' },
  // Numbers are accepted and used as their decimal string, as Nova does.
  id: { type: ['string', 'number', 'null'], minLength: 1, maxLength: 255, pattern: '^(?! )[a-zA-Z0-9. _-]+(?<! )$' },
  ram: intLike,
  vcpus: intLike,
  disk: intLike,
  'OS-FLV-EXT-DATA:ephemeral': intLike,
  swap: intLike,
  rxtx_factor: { type: ['number', 'string'], pattern: '^[0-9]+(\\.[0-9]+)?$' },
  'os-flavor-access:is_public': booleanLike,
};

function createSchema(withDescription: boolean) {
  return {
    type: 'object',
    properties: {
      flavor: {
        type: 'object',
        properties: withDescription ? { ...flavorProps, description } : flavorProps,
        required: ['name', 'ram', 'vcpus', 'disk'],
        additionalProperties: false,
      },
    },
    required: ['flavor'],
    additionalProperties: false,
  };
}

export const flavorCreateV21 = createSchema(false);
/** 2.55 adds `description`. */
export const flavorCreateV255 = createSchema(true);

/** PUT /flavors/{id} (2.55): only the description may change. */
export const flavorUpdateV255 = {
  type: 'object',
  properties: {
    flavor: { type: 'object', properties: { description }, required: ['description'], additionalProperties: false },
  },
  required: ['flavor'],
  additionalProperties: false,
};

export interface FlavorCreateBody {
  flavor: {
    name: string;
    id?: string | number | null;
    ram: number | string;
    vcpus: number | string;
    disk: number | string;
    'OS-FLV-EXT-DATA:ephemeral'?: number | string;
    swap?: number | string;
    rxtx_factor?: number | string;
    'os-flavor-access:is_public'?: boolean | string;
    description?: string | null;
  };
}

/** An integer field given as a number or digit string, checked against [min, max] (Nova's message). */
export function intInRange(field: string, v: number | string | undefined, min: number, max = MAX_INT, dflt = 0): number {
  if (v === undefined) return dflt;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw invalid(`Invalid input for field/attribute ${field}. Value: ${v}. ${JSON.stringify(v)} is not a valid integer`);
  if (n < min) throw invalid(`Invalid input for field/attribute ${field}. Value: ${v}. ${v} is less than the minimum of ${min}`);
  if (n > max) throw invalid(`Invalid input for field/attribute ${field}. Value: ${v}. ${v} is greater than the maximum of ${max}`);
  return n;
}

/** rxtx_factor: a number > 0 and at most a float's maximum, default 1.0. */
export function rxtxFactor(v: number | string | undefined): number {
  if (v === undefined) return 1.0;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 3.40282e38)
    throw invalid(`Invalid input for field/attribute rxtx_factor. Value: ${v}. ${v} is less than or equal to the minimum of 0`);
  return n;
}
