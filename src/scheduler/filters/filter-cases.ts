/** Table-driven filter tests: each case runs one filter by name on one host and request. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeFilters } from './index.js';
import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import type { FilterConfig } from './filter-config.js';

export interface FilterCase {
  filter: string;
  name: string;
  host: HostState;
  spec: RequestSpec;
  pass: boolean;
  /** The whole reason (string) or a pattern. */
  reason?: string | RegExp;
  summary?: string | RegExp;
  /** What relevant(spec) answers (checked when given). */
  relevant?: boolean;
  config?: FilterConfig;
}

export function runFilterCases(cases: readonly FilterCase[]): void {
  for (const c of cases)
    test(`${c.filter}: ${c.name}`, () => {
      const [f] = makeFilters([c.filter], c.config);
      if (c.relevant !== undefined) assert.equal(f.relevant?.(c.spec) ?? true, c.relevant, 'relevant()');
      const r = f.filter(c.host, c.spec);
      assert.equal(r.pass, c.pass, JSON.stringify(r));
      if (r.pass) return;
      if (c.reason !== undefined) (typeof c.reason === 'string' ? assert.equal : assert.match)(r.reason as never, c.reason as never);
      if (c.summary !== undefined) (typeof c.summary === 'string' ? assert.equal : assert.match)(r.summary as never, c.summary as never);
      assert.ok(!r.summary.includes(c.host.host), `summary names no host: ${r.summary}`);
      assert.ok(r.reason.startsWith(`${c.host.host}: `), `reason starts with the host: ${r.reason}`);
    });
}
