import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { invalid } from '../errors.js';

// ajv and ajv-formats are CommonJS; take the constructor from default when present.
const Ajv = ((AjvModule as any).default ?? AjvModule) as typeof AjvModule.default;
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as typeof addFormatsModule.default;

const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false });
addFormats(ajv);
ajv.addFormat('uuid-like', /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/);

const compiled = new WeakMap<object, ValidateFunction>();

/** The value as a message shows it: JSON, cut at 200 characters; never throws (deep nesting). */
function showValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : String(JSON.stringify(value));
  } catch {
    text = Array.isArray(value) ? '[…]' : typeof value === 'object' && value !== null ? '{…}' : String(value);
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Nova's jsonschema message: "Invalid input for field/attribute X. Value: V. <reason>". */
function describe(err: ErrorObject, data: unknown): string {
  const path = err.instancePath.split('/').filter(Boolean);
  let value: unknown = data;
  for (const p of path) value = value && typeof value === 'object' ? (value as any)[p] : undefined;
  const field = path.length ? path[path.length - 1] : '';
  const shown = showValue(value);
  let reason: string;
  switch (err.keyword) {
    case 'additionalProperties':
      return `Additional properties are not allowed ('${(err.params as any).additionalProperty}' was unexpected)`;
    case 'required':
      return `'${(err.params as any).missingProperty}' is a required property`;
    case 'type':
      reason = `${showValue(value)} is not of type '${(err.params as any).type}'`;
      break;
    case 'maxLength':
      reason = `'${shown}' is too long`;
      break;
    case 'minLength':
      reason = `'${shown}' is too short`;
      break;
    case 'enum':
      reason = `${showValue(value)} is not one of ${JSON.stringify((err.params as any).allowedValues)}`;
      break;
    case 'pattern':
      reason = `'${shown}' does not match '${(err.params as any).pattern}'`;
      break;
    case 'format':
      reason = `'${shown}' is not a '${(err.params as any).format}'`;
      break;
    case 'minimum':
    case 'maximum':
      reason = `${shown} is ${err.keyword === 'minimum' ? 'less than the minimum of' : 'greater than the maximum of'} ${(err.params as any).limit}`;
      break;
    default:
      reason = err.message ?? 'is invalid';
  }
  return `Invalid input for field/attribute ${field}. Value: ${shown}. ${reason}`;
}

/**
 * Checks data against a JSON schema and returns it typed. Throws Invalid (400) with a
 * Nova-style message naming the field and what is wrong with it.
 */
export function validate<T>(schema: object, data: unknown): T {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  if (!fn(data)) throw invalid(describe(fn.errors![0], data));
  return data as T;
}

/** Common schema pieces. */
export const S = {
  name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^(?![\\s])[\\s\\S]*(?<![\\s])$' },
  uuid: { type: 'string', format: 'uuid-like' },
  nonNegativeInt: {
    oneOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^[0-9]+$' }],
  },
  metadata: {
    type: 'object',
    patternProperties: { '^[a-zA-Z0-9-_:. /]{1,255}$': { type: 'string', maxLength: 255 } },
    additionalProperties: false,
  },
} as const;
