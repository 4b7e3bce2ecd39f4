/**
 * Objects served over the bus, and typed proxies that call them: how a process without the DB
 * (a compute host, a network agent) uses the service clients a conductor process holds.
 *
 * Wire format (one bus call per method call): method `<object>.<method>`, args
 * `{args: [...], undef?: [i, ...]}` (positions that were `undefined`, which JSON would turn
 * into null or drop), reply `{value}` (`value` absent for undefined). Only the methods a
 * spec names are ever served or proxied: an object's other properties are unreachable.
 * Errors: the bus carries NovaErrors (kind and message) back to the caller unchanged; a call
 * naming an unknown object or method is NotFound; a method the served object lacks (optional
 * interface methods) is NotImplemented.
 */
import type { Bus } from '../bus/bus.js';
import { DEFAULT_CALL_TIMEOUT_MS } from '../bus/bus.js';
import { invalid, notFound, notImplemented } from '../errors.js';

type AnyAsync = (...args: never[]) => Promise<unknown>;

/** The keys of T whose values are (possibly optional) async methods. */
export type MethodKeys<T> = { [K in keyof T]-?: NonNullable<T[K]> extends AnyAsync ? K : never }[keyof T] & string;

/** The parameters of T's method K. */
export type MethodArgs<T, K extends keyof T> = NonNullable<T[K]> extends (...a: infer A) => Promise<unknown> ? A : never;

/** How one method is called remotely. */
export interface MethodOptions<A extends unknown[]> {
  /**
   * The call timeout in ms (default the bus's, 60 s), or a function of the call's arguments: a
   * method that itself waits (VolumeClient.waitAvailable's timeoutMs) must get longer than that.
   */
  timeoutMs?: number | ((...args: A) => number);
}

/** The allow-list of an object: the methods that may be called remotely, with their options. */
export type RemoteSpec<T, K extends MethodKeys<T> = MethodKeys<T>> = { [P in K]: MethodOptions<MethodArgs<T, P>> };

/** What a proxy of T built from a spec of keys K offers: exactly those methods, all present. */
export type RemoteOf<T, K extends MethodKeys<T>> = { [P in K]-?: NonNullable<T[P]> };

interface WireArgs {
  args: unknown[];
  undef?: number[];
}

/** Encodes positional arguments so that undefined survives JSON. */
export function encodeArgs(args: readonly unknown[]): WireArgs {
  const undef: number[] = [];
  const out = args.map((a, i) => {
    if (a !== undefined) return a;
    undef.push(i);
    return null;
  });
  return undef.length ? { args: out, undef } : { args: out };
}

/** The inverse of encodeArgs; Invalid for anything that is not such an encoding. */
export function decodeArgs(wire: unknown): unknown[] {
  const w = wire as Partial<WireArgs> | null;
  if (w === null || typeof w !== 'object' || !Array.isArray(w.args)) throw invalid('A remote call needs {"args": [...]}.');
  const args = [...w.args];
  for (const i of Array.isArray(w.undef) ? w.undef : []) if (Number.isInteger(i) && i >= 0 && i < args.length) args[i] = undefined;
  return args;
}

/** One object served on a topic: the target and the names of the methods it serves. */
export interface ServedObject {
  readonly target: object;
  readonly methods: readonly string[];
}

/** An object to serve with its allow-list (the spec's keys are checked against T's methods). */
export function served<T extends object, K extends MethodKeys<T>>(target: T, spec: RemoteSpec<T, K>): ServedObject {
  return { target, methods: Object.keys(spec) };
}

/**
 * Serves objects on topic (several servers of a topic share the calls, round robin). Each
 * call runs the named method of the named object with the decoded arguments; its result goes
 * back as JSON. Returns the bus's stop function.
 */
export function serveObjects(bus: Bus, topic: string, objects: Record<string, ServedObject>): Promise<() => Promise<void>> {
  const table = new Map<string, { target: object; methods: Set<string> }>();
  for (const [name, o] of Object.entries(objects)) table.set(name, { target: o.target, methods: new Set(o.methods) });
  return bus.serve(topic, async (method: string, wire: unknown) => {
    const dot = method.indexOf('.');
    const entry = dot > 0 ? table.get(method.slice(0, dot)) : undefined;
    const name = method.slice(dot + 1);
    if (!entry || !entry.methods.has(name)) throw notFound(`No remote method ${method} is served on ${topic}.`);
    const fn = (entry.target as Record<string, unknown>)[name];
    if (typeof fn !== 'function') throw notImplemented(`${method} is not available from this service.`);
    const value: unknown = await (fn as (...a: unknown[]) => unknown).apply(entry.target, decodeArgs(wire));
    return value === undefined ? {} : { value };
  });
}

/**
 * A proxy of the object served as `name` on topic: each method of spec becomes a bus call
 * with that method's timeout. The proxy has no other properties.
 */
export function remoteObject<T, K extends MethodKeys<T>>(bus: Bus, topic: string, name: string, spec: RemoteSpec<T, K>): RemoteOf<T, K> {
  const proxy: Record<string, (...a: unknown[]) => Promise<unknown>> = {};
  for (const method of Object.keys(spec) as K[]) {
    const opts: MethodOptions<unknown[]> = spec[method] as MethodOptions<unknown[]>;
    proxy[method] = async (...args: unknown[]) => {
      const t = opts.timeoutMs;
      const timeout = typeof t === 'function' ? t(...args) : (t ?? DEFAULT_CALL_TIMEOUT_MS);
      const reply = await bus.call<{ value?: unknown } | null | undefined>(topic, `${name}.${method}`, { ...encodeArgs(args) }, { timeout });
      return reply?.value;
    };
  }
  return proxy as unknown as RemoteOf<T, K>;
}
