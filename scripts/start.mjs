// `npm start`: builds dist/ from src/ and runs the all-in-one cloud in this process,
// so that signals sent to npm reach it. Arguments after `--` go to nova-ts.
import { buildAll } from './build.mjs';
import { ensureSystemPackages, isInstalled } from './ensure-system-packages.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The QEMU driver needs QEMU, qemu-img and genisoimage, and its networks dnsmasq, iptables and ip; asked for explicitly, they are installed
// (as root) when missing. Without --driver, nova-ts picks qemu only when QEMU is already there. qemu-img (volumes) is
// installed for either driver.
const args = process.argv.slice(2);
const driverArg = args.findIndex((a) => a === '--driver' || a.startsWith('--driver='));
const driver = driverArg < 0 ? null : args[driverArg].includes('=') ? args[driverArg].split('=')[1] : args[driverArg + 1];
const QEMU_PACKAGES = ['qemu-system-x86', 'qemu-utils', 'genisoimage', 'dnsmasq-base', 'iptables', 'iproute2', 'conntrack'];
// Volume files are made with qemu-img whatever the driver.
const VOLUME_PACKAGES = ['qemu-utils'];
// The certificate authority (os-certificates, --tls) signs with openssl whatever the driver.
const CERT_PACKAGES = ['openssl'];
if (driver === 'qemu' || (driver === null && isInstalled('qemu-system-x86'))) ensureSystemPackages([...QEMU_PACKAGES, ...CERT_PACKAGES]);
else ensureSystemPackages([...VOLUME_PACKAGES, ...CERT_PACKAGES]);
await buildAll();
const { main } = await import(pathToFileURL(join(root, 'dist', 'src', 'cli.js')).href);
await main(args);
