// Enforces the dependency graph of docs/architecture.md: no import cycles; virt/ never imports
// db/, api/ or http/; drivers never import each other; compute/ never imports db/ at run time.
// Type-only imports are allowed (they vanish at run time).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const files = [];
(function walk(d) {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.contract.ts')) files.push(p);
  }
})(src);

const graph = new Map();
const problems = [];
const importRe = /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm;
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const deps = [];
  for (const m of text.matchAll(importRe)) {
    if (m[2]) continue;
    const target = resolve(dirname(f), m[3]).replace(/\.js$/, '.ts');
    deps.push(target);
    const from = relative(src, f);
    const to = relative(src, target);
    if (from.startsWith('virt/') && /^(db|api|http)\//.test(to)) problems.push(`${from} imports ${to}: virt/ must not reach ${to.split('/')[0]}/`);
    const drv = (p) => (/^virt\/([^/]+)\//.exec(p) ?? [])[1];
    if (drv(from) && drv(to) && drv(from) !== drv(to)) problems.push(`${from} imports ${to}: drivers must not import each other`);
    if (from.startsWith('compute/') && to.startsWith('db/')) problems.push(`${from} imports ${to}: compute hosts never touch the DB`);
  }
  graph.set(f, deps);
}
const state = new Map();
const stack = [];
function visit(f) {
  state.set(f, 1);
  stack.push(f);
  for (const d of graph.get(f) ?? []) {
    if (state.get(d) === 1) {
      const cyc = stack.slice(stack.indexOf(d)).concat(d).map((p) => relative(src, p));
      problems.push(`import cycle: ${cyc.join(' -> ')}`);
    } else if (!state.has(d)) visit(d);
  }
  stack.pop();
  state.set(f, 2);
}
for (const f of files) if (!state.has(f)) visit(f);
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`dependency rules hold for ${files.length} files`);
