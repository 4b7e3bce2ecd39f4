// `npm start`: builds dist/ from src/ and runs the all-in-one cloud in this process,
// so that signals sent to npm reach it. Arguments after `--` go to nova-ts.
import { buildAll } from './build.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await buildAll();
const { main } = await import(pathToFileURL(join(root, 'dist', 'src', 'cli.js')).href);
await main(process.argv.slice(2));
