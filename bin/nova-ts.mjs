#!/usr/bin/env node
// Entry point: runs the built JavaScript in dist/ (npm start builds it first).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'src', 'main.js');
if (!existsSync(entry)) {
  console.error('nova-ts is not built: run `npm run build` (or `npm start`) first.');
  process.exit(1);
}
await import(entry);
