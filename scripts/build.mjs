// Transpiles src/ to dist/src/ with esbuild and builds the dashboard (dashboard/ with Vite into
// dashboard/dist/); type checking is `npm run typecheck` and `tsc -p dashboard`.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.contract.ts')) out.push(p);
  }
  return out;
}

export async function buildAll() {
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  await build({
    entryPoints: sources(join(root, 'src')),
    outdir: join(root, 'dist'),
    outbase: root,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  await buildDashboard();
}

/** Builds the dashboard single-page app into dashboard/dist (served by the API service at /). */
export async function buildDashboard() {
  const { build: viteBuild } = await import('vite');
  const dir = join(root, 'dashboard');
  await viteBuild({ root: dir, configFile: join(dir, 'vite.config.ts'), logLevel: 'warn' });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === '--dashboard') await buildDashboard();
  else await buildAll();
}
