/**
 * Nova's extra-spec operators (nova/scheduler/filters/extra_specs_ops.py), shared by the
 * ComputeCapabilities, AggregateInstanceExtraSpecs filters. A requirement is a string such as
 * "true", ">= 4096", "s== kvm", "<in> avx", "<all-in> aes avx", "<or> kvm <or> qemu":
 *
 *   =  (numeric at least), ==, !=, >=, <=   numeric comparisons
 *   s==, s!=, s<, s<=, s>, s>=              string comparisons
 *   <in> x                                  the value contains x (an element, for a list)
 *   <all-in> x y ...                        the value contains every word
 *   <or> a <or> b ...                       the value equals one of the words
 *
 * Anything else is compared as a whole string with the value. A numeric operator on a value or
 * argument that is not a number does not match (Nova raises). Parse once per request with
 * `parseRequirement`, then `matches` per host: matching allocates nothing.
 */

export type Operator =
  | '=' | '==' | '!=' | '>=' | '<='
  | 's==' | 's!=' | 's<' | 's<=' | 's>' | 's>='
  | '<in>' | '<all-in>' | '<or>';

export interface Requirement {
  /** The requirement as written, for messages. */
  readonly text: string;
  /** null: plain string equality with `text`. */
  readonly op: Operator | null;
  /** The words after the operator (<or>: the alternatives, keywords removed). */
  readonly args: readonly string[];
  /** Numeric operators: the first argument as a number (NaN when it is not one). */
  readonly num: number;
}

const OPERATORS: ReadonlySet<string> = new Set<Operator>(['=', '==', '!=', '>=', '<=', 's==', 's!=', 's<', 's<=', 's>', 's>=', '<in>', '<all-in>', '<or>']);

export function parseRequirement(text: string): Requirement {
  const words = text.split(/\s+/).filter((w) => w !== '');
  const first = words[0];
  if (first === undefined || !OPERATORS.has(first)) return { text, op: null, args: [], num: NaN };
  const op = first as Operator;
  let args = words.slice(1);
  // "<or> a <or> b": Nova takes every other word after the leading operator.
  if (op === '<or>') args = args.filter((_, i) => i % 2 === 0);
  return { text, op, args, num: args.length ? toNumber(args[0]) : NaN };
}

function toNumber(s: string): number {
  return s.trim() === '' ? NaN : Number(s);
}

/**
 * Whether a host's value satisfies the requirement. A list value (e.g. cpu_info.features) is
 * searched element-wise by <in> and <all-in> and compared as its comma-joined text otherwise;
 * undefined/null never satisfies an operator, and equals only an empty plain requirement.
 */
export function matches(value: string | number | boolean | readonly unknown[] | null | undefined, req: Requirement): boolean {
  if (req.op === null) return value !== null && value !== undefined && text(value) === req.text;
  if (value === null || value === undefined) return false;
  const { op, args } = req;
  if (op === '<or>') {
    const v = text(value);
    for (const a of args) if (a === v) return true;
    return false;
  }
  if (args.length === 0) return false;
  if (op === '<in>') return contains(value, args[0]);
  if (op === '<all-in>') {
    for (const a of args) if (!contains(value, a)) return false;
    return true;
  }
  if (op[0] === 's') {
    const v = text(value);
    const a = args[0];
    switch (op) {
      case 's==': return v === a;
      case 's!=': return v !== a;
      case 's<': return v < a;
      case 's<=': return v <= a;
      case 's>': return v > a;
      default: return v >= a; // s>=
    }
  }
  const x = typeof value === 'number' ? value : toNumber(text(value));
  const y = req.num;
  if (Number.isNaN(x) || Number.isNaN(y)) return false;
  switch (op) {
    case '==': return x === y;
    case '!=': return x !== y;
    case '<=': return x <= y;
    default: return x >= y; // '=' and '>='
  }
}

function text(value: string | number | boolean | readonly unknown[]): string {
  return typeof value === 'string' ? value : Array.isArray(value) ? value.join(',') : String(value);
}

function contains(value: string | number | boolean | readonly unknown[], word: string): boolean {
  if (Array.isArray(value)) {
    for (const e of value) if (String(e) === word) return true;
    return false;
  }
  return text(value).includes(word);
}
