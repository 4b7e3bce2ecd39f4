import { main } from './cli.js';

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`nova-ts: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
