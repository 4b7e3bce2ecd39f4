/**
 * The version predicates of the image property img_hv_requested_version (Nova reads them with
 * distutils' VersionPredicate): comma-separated comparisons such as ">=6.0, <7", against the
 * host's hypervisor_version, an integer encoding major*1e6 + minor*1e3 + patch. A bare integer
 * of 1000 or more (">=6000") is compared with that integer as is; anything else as a dotted
 * version ("6.2.0"). An unparsable predicate is satisfied by no host.
 */

type Op = '<' | '<=' | '==' | '!=' | '>=' | '>';

export interface VersionPredicate {
  readonly text: string;
  satisfiedBy(hypervisorVersion: number): boolean;
}

/** Nova's convert_version_to_str: 6002000 -> "6.2.0". */
export function versionToString(v: number): string {
  const parts: number[] = [];
  for (let n = Math.floor(v); n > 0; n = Math.floor(n / 1000)) parts.unshift(n % 1000);
  return parts.length ? parts.join('.') : '0';
}

/** Dotted version to the same integer encoding (components past the third are ignored). */
function dottedToInt(s: string): number {
  const p = s.split('.').map(Number);
  return (p[0] ?? 0) * 1_000_000 + (p[1] ?? 0) * 1000 + (p[2] ?? 0);
}

export function parseVersionPredicate(text: string): VersionPredicate {
  const clauses: { op: Op; v: number }[] = [];
  let valid = true;
  for (const raw of text.split(',')) {
    const m = /^\s*(<=|>=|==|!=|<|>)?\s*(\d+(?:\.\d+)*)\s*$/.exec(raw);
    if (!m) {
      valid = false;
      break;
    }
    const num = m[2];
    const v = !num.includes('.') && Number(num) >= 1000 ? Number(num) : dottedToInt(num);
    clauses.push({ op: (m[1] as Op | undefined) ?? '==', v });
  }
  return {
    text,
    satisfiedBy(hv: number): boolean {
      if (!valid) return false;
      for (const { op, v } of clauses) {
        const ok = op === '<' ? hv < v : op === '<=' ? hv <= v : op === '==' ? hv === v : op === '!=' ? hv !== v : op === '>=' ? hv >= v : hv > v;
        if (!ok) return false;
      }
      return true;
    },
  };
}
