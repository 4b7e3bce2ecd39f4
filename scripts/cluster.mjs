// `npm run cluster`: makes sure PostgreSQL and RabbitMQ (and, for --driver qemu, QEMU and the
// network tools) are installed from Debian's packages, builds dist/ from src/, then runs the
// cluster (src/cluster/cli.ts) in this process so that signals sent to npm reach it.
// Arguments after `--` go to the cluster; `--help` lists them.
import { buildAll } from './build.mjs';
import { ensureSystemPackages } from './ensure-system-packages.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const driverArg = args.findIndex((a) => a === '--driver' || a.startsWith('--driver='));
const driver = driverArg < 0 ? 'fake' : args[driverArg].includes('=') ? args[driverArg].split('=')[1] : args[driverArg + 1];
const BASE = ['postgresql', 'rabbitmq-server', 'qemu-utils', 'openssl'];
const QEMU = ['qemu-system-x86', 'genisoimage', 'dnsmasq-base', 'iptables', 'iproute2', 'conntrack'];
if (!args.includes('--help') && !args.includes('-h')) {
  const { missing } = ensureSystemPackages(driver === 'qemu' ? [...BASE, ...QEMU] : BASE);
  if (missing.length) {
    console.error(`cluster: missing Debian packages: ${missing.join(' ')}`);
    process.exit(1);
  }
}
await buildAll();
const { main } = await import(pathToFileURL(join(root, 'dist', 'src', 'cluster', 'cli.js')).href);
await main(args);
