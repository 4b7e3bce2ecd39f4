/**
 * Neutron's native bulk create: POST /v2.0/<collection> with {"<collection>": [ {...}, ... ]}
 * creates every item or none and answers 201 {"<collection>": [...]} in request order.
 * Contract for the routes using it: every item passes the one-item schema and the policy
 * checks before anything is written, then all items are created in ONE transaction (nested
 * transactions join it), so a later failure rolls back the earlier items and each quota check
 * sees the items already made in the batch (the whole batch counts against the quota).
 */
import { invalid, NovaError } from '../errors.js';
import { validate } from '../http/validate.js';

/** Most items one bulk request may create (keeps one request, and its transaction, bounded). */
export const BULK_MAX = 500;

export interface CreateItems<T> {
  items: T[];
  /** The body used the plural (bulk) form: answer with the list. */
  bulk: boolean;
  /** Runs fn for item i; in bulk requests a NovaError it throws names the item ("ports[1]: ..."). */
  each<R>(i: number, fn: () => R): R;
}

function named(plural: string, i: number, e: unknown): unknown {
  if (!(e instanceof NovaError)) return e;
  return new NovaError(e.kind, `${plural}[${i}]: ${e.message}`, e.details);
}

/**
 * The items of a create body: one for {"<singular>": {...}}, the list for {"<plural>": [...]}.
 * singleSchema is the schema of the one-item body; bulk items get the same checks and messages,
 * prefixed with the item's position.
 */
export function createItems<T>(body: unknown, singular: string, plural: string, singleSchema: object): CreateItems<T> {
  const isBulk = !!body && typeof body === 'object' && !Array.isArray(body) && plural in body;
  if (!isBulk) {
    const item = validate<Record<string, T>>(singleSchema, body)[singular];
    return { items: [item], bulk: false, each: (_i, fn) => fn() };
  }
  const keys = Object.keys(body as object);
  if (keys.length !== 1)
    throw invalid(`A bulk create body has the single key '${plural}' (a list of ${singular} objects); got keys ${keys.map((k) => `'${k}'`).join(', ')}.`);
  const list = (body as Record<string, unknown>)[plural];
  if (!Array.isArray(list)) throw invalid(`Invalid input for ${plural}: it must be a list of ${singular} objects.`);
  if (!list.length) throw invalid(`Resources required: '${plural}' is an empty list; give at least one ${singular}.`);
  if (list.length > BULK_MAX) throw invalid(`Too many ${plural} in one bulk request: ${list.length}; at most ${BULK_MAX}.`);
  const each = <R>(i: number, fn: () => R): R => {
    let r: R;
    try {
      r = fn();
    } catch (e) {
      throw named(plural, i, e);
    }
    if (r instanceof Promise) return r.catch((e: unknown) => Promise.reject(named(plural, i, e))) as R;
    return r;
  };
  const items = list.map((item, i) => each(i, () => validate<Record<string, T>>(singleSchema, { [singular]: item })[singular]));
  return { items, bulk: true, each };
}
