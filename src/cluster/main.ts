import { main } from './cli.js';

// Entry of `npm run cluster` (scripts/cluster.mjs runs the built copy) and of the tests (through tsx).
main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`cluster: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
