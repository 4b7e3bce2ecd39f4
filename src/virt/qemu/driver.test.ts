/**
 * The qemu driver on real QEMU (TCG here): the driver contract suite, then what only a real
 * hypervisor shows (the guest's own console, config drive, survival across a driver restart,
 * bad images). Guests are destroyed by the contract, and every test removes its directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../config.js';
import type { ImageMeta } from '../driver.js';
import type { Vif } from '../../network/types.js';
import { contractInstance, driverContract } from '../driver.contract.js';
import { QemuDriver } from './driver.js';
import { qemuArgs, type GuestDefinition } from './process.js';
import { testGuestImage, type TestImages } from './test-guest.js';
import { WHOLE_DISK_PACKAGES } from './whole-disk.js';

const haveQemu = spawnSync('qemu-system-x86_64', ['--version']).status === 0 && spawnSync('qemu-img', ['--version']).status === 0;

test('qemuArgs: each NIC is a tap backend and a virtio-net device with its MAC, in order; none without NICs', () => {
  const def: GuestDefinition = {
    uuid: 'u1', name: 'vm', memoryMb: 64, vcpus: 1, accel: 'tcg', kernel: null, ramdisk: null, cmdline: null, configDrive: false,
    nics: [
      { port: 'p-one', devname: 'tapp-one', mac: 'fa:16:3e:00:00:01' },
      { port: 'p-two', devname: 'tapp-two', mac: 'fa:16:3e:00:00:02' },
    ],
  };
  const args = qemuArgs(def, '/g');
  const pairs = args.flatMap((a, i) => (a === '-netdev' || (a === '-device' && args[i + 1].startsWith('virtio-net')) ? [args[i + 1]] : []));
  assert.deepEqual(pairs, [
    'tap,id=hostnet-p-one,ifname=tapp-one,script=no,downscript=no',
    'virtio-net-pci,netdev=hostnet-p-one,mac=fa:16:3e:00:00:01,id=net-p-one',
    'tap,id=hostnet-p-two,ifname=tapp-two,script=no,downscript=no',
    'virtio-net-pci,netdev=hostnet-p-two,mac=fa:16:3e:00:00:02,id=net-p-two',
  ]);
  // guest.json files from before networking have no nics field.
  const { nics: _, ...old } = def;
  assert.ok(!qemuArgs(old, '/g').includes('-netdev'));
  assert.ok(!qemuArgs({ ...def, nics: [] }, '/g').includes('-netdev'));
});

async function fixture(images: TestImages, netns?: string) {
  const root = await mkdtemp(join(tmpdir(), 'qd-'));
  const driver = new QemuDriver({
    host: 'contract-host',
    root,
    netns,
    config: { ...defaultConfig().qemu, shutdownTimeoutSec: 20 },
    fetchImage: async (id) => images.fetch(id),
  });
  return {
    root,
    driver,
    // With a config drive the guest knows its name (there is no metadata service without a network).
    instance: (over = {}) => contractInstance({ image_ref: images.disk.id, image: images.disk, config_drive: true, ...over }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

if (!haveQemu) {
  test('qemu driver', { skip: 'qemu-system-x86_64 or qemu-img is not installed' }, () => undefined);
} else {
  const images = await testGuestImage();
  driverContract('qemu', () => fixture(images));

  test('qemu driver: the guest boots its own kernel, reads its config drive and runs the user data', async () => {
    const f = await fixture(images);
    await f.driver.init('contract-host');
    const vm = f.instance({ display_name: 'ud-vm', hostname: 'ud-vm', user_data: Buffer.from('#!/bin/sh\necho user-data-ran-$((6*7))\n').toString('base64') });
    try {
      await f.driver.spawn(vm);
      const out = await waitConsole(f.driver, vm.uuid, /user-data-ran-42/, 60_000);
      assert.match(out, /Linux version/);
    } finally {
      await f.driver.destroy(vm.uuid);
      await f.cleanup();
    }
  });

  test('qemu driver: guests survive a restart of the driver and stay controllable', async () => {
    const f = await fixture(images);
    await f.driver.init('contract-host');
    const vm = f.instance();
    try {
      await f.driver.spawn(vm);
      await f.driver.close();
      const again = new QemuDriver(f.driver.opts);
      await again.init('contract-host');
      assert.deepEqual(await again.listInstances(), [vm.uuid]);
      assert.equal(await again.powerState(vm.uuid), 1);
      await again.pause(vm.uuid);
      assert.equal(await again.powerState(vm.uuid), 3);
      await again.destroy(vm.uuid);
      assert.deepEqual(await again.listInstances(), []);
    } finally {
      await f.driver.destroy(vm.uuid);
      await f.cleanup();
    }
  });

  test('qemu driver: bad images fail the spawn with the reason and leave nothing behind', async () => {
    const f = await fixture(images);
    await f.driver.init('contract-host');
    const cases: [ImageMeta, RegExp][] = [
      [images.corrupt, /not a valid qcow2|corrupt qcow2/],
      [images.unbootable, /cannot boot: its disk has no boot sector/],
      [{ ...images.disk, properties: { kernel_id: images.unbootable.id } }, /not a bootable Linux kernel/],
      [images.iso, /disk_format 'iso'/],
    ];
    try {
      for (const [image, why] of cases) {
        const vm = f.instance({ image, image_ref: image.id });
        await assert.rejects(f.driver.spawn(vm), why);
        assert.deepEqual(await f.driver.listInstances(), []);
      }
      const big = f.instance({ flavor: { ...f.instance().flavor, root_gb: 1 }, image: images.big, image_ref: images.big.id });
      await assert.rejects(f.driver.spawn(big), /flavor's root disk is 1 GB/);
      assert.deepEqual(await f.driver.listInstances(), []);
    } finally {
      await f.cleanup();
    }
  });

  test('qemu driver: NICs on taps in the host namespace: boot with one (DHCP lease), hot-plug a second, unplug it, keep it across a restart', async (t) => {
    // A namespace of this test's own stands in for the host's: two taps, DHCP on the first.
    const ns = `nova-ts-qn-${process.pid}`;
    const taps = [`tapqn${process.pid}a`, `tapqn${process.pid}b`];
    const inNs = (...cmd: string[]) => {
      const r = spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${cmd.join(' ')}: ${r.stderr}`);
    };
    const vif = (port: string, devname: string, mac: string): Vif => ({
      id: port, address: mac, devname, type: 'bridge', preserve_on_delete: false,
      network: { id: 'n1', label: 'private', bridge: 'brqtest', mtu: 1500, subnets: [] },
    });
    const [a, b] = [vif('port-a', taps[0], 'fa:16:3e:00:00:0a'), vif('port-b', taps[1], 'fa:16:3e:00:00:0b')];
    // The guest prints its NICs' MACs, and its IPv4 addresses, whenever they change.
    const watch = [
      '#!/bin/sh',
      'p=; q=',
      'while :; do',
      '  m=$(cat /sys/class/net/eth*/address 2>/dev/null | sort | xargs); [ "$m" != "$p" ] && echo "macs: [$m]"; p=$m',
      "  a=$(ip -o -4 addr show | awk '$2 != \"lo\" { print $2, $4 }' | xargs); [ \"$a\" != \"$q\" ] && echo \"ips: [$a]\"; q=$a",
      '  sleep 1',
      'done',
      '',
    ].join('\n');
    const f = await fixture(images, ns);
    const vm = f.instance({ display_name: 'nic-vm', hostname: 'nic-vm', network_info: [a], user_data: Buffer.from(watch).toString('base64') });
    let dnsmasq: ReturnType<typeof spawn> | null = null;
    assert.equal(spawnSync('ip', ['netns', 'add', ns]).status, 0, 'ip netns add failed (needs root and iproute2)');
    try {
      for (const tap of taps) inNs('ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
      inNs('ip', 'addr', 'add', '198.19.254.1/24', 'dev', taps[0]);
      inNs('ip', 'link', 'set', taps[0], 'up');
      dnsmasq = spawn('ip', ['netns', 'exec', ns, 'dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--port=0',
        `--interface=${taps[0]}`, '--bind-interfaces', '--dhcp-range=198.19.254.10,198.19.254.20,255.255.255.0', '--pid-file=',
        `--dhcp-leasefile=${join(f.root, 'leases')}`], { stdio: 'ignore' });
      await f.driver.init('contract-host');
      const t0 = Date.now();
      await f.driver.spawn(vm);
      let at = 0;
      const see = async (re: RegExp, ms = 60_000, from = at) => {
        const out = await waitConsole(f.driver, vm.uuid, re, ms, from);
        at = Math.max(at, out.length);
      };
      // The guest takes a lease on its NIC (under TCG often only on udhcpc's retry, after the banner).
      await see(/=== tiny-linux nic-vm up: /, 90_000, 0);
      await see(/macs: \[fa:16:3e:00:00:0a\]/, 60_000, 0);
      await see(/ips: \[eth0 198\.19\.254\.(1\d|20)\/24\]/, 60_000, 0);
      assert.match(await readFile(join(f.root, 'leases'), 'utf8'), /fa:16:3e:00:00:0a 198\.19\.254\./);
      t.diagnostic(`spawn to DHCP lease: ${Date.now() - t0} ms`);
      const nics = async () => ((JSON.parse(await readFile(join(f.root, 'contract-host', vm.uuid, 'guest.json'), 'utf8')) as GuestDefinition).nics ?? []).map((n) => n.port);

      let t1 = Date.now();
      await f.driver.attachInterface(vm.uuid, b);
      await f.driver.attachInterface(vm.uuid, b); // idempotent
      await see(/macs: \[fa:16:3e:00:00:0a fa:16:3e:00:00:0b\]/);
      t.diagnostic(`hot-plug seen by the guest after ${Date.now() - t1} ms`);
      assert.deepEqual(await nics(), ['port-a', 'port-b']);

      t1 = Date.now();
      await f.driver.detachInterface(vm.uuid, b);
      t.diagnostic(`unplug released by the guest in ${Date.now() - t1} ms`);
      await see(/macs: \[fa:16:3e:00:00:0a\]/);
      assert.deepEqual(await nics(), ['port-a']);
      await f.driver.detachInterface(vm.uuid, b); // idempotent for a NIC the guest does not have

      // A stopped guest only records the NIC; it has it from its next start.
      await f.driver.powerOff(vm.uuid);
      await f.driver.attachInterface(vm.uuid, b);
      assert.deepEqual(await nics(), ['port-a', 'port-b']);
      await f.driver.powerOn(vm.uuid);
      await see(/macs: \[fa:16:3e:00:00:0a fa:16:3e:00:00:0b\]/, 90_000);
    } finally {
      await f.driver.destroy(vm.uuid);
      if (dnsmasq?.pid) process.kill(dnsmasq.pid, 'SIGTERM');
      for (const tap of taps) spawnSync('ip', ['netns', 'exec', ns, 'ip', 'tuntap', 'del', 'dev', tap, 'mode', 'tap']);
      spawnSync('ip', ['netns', 'del', ns]);
      await f.cleanup();
    }
  });

  test('qemu driver: without a network namespace a guest with NICs is refused and nothing is left', async () => {
    const f = await fixture(images);
    await f.driver.init('contract-host');
    const nic: Vif = { id: 'p1', address: 'fa:16:3e:00:00:01', devname: 'tapnonetns', type: 'bridge', preserve_on_delete: false,
      network: { id: 'n1', label: 'private', bridge: 'brq1', mtu: 1500, subnets: [] } };
    try {
      await assert.rejects(f.driver.spawn(f.instance({ network_info: [nic] })), /runs without networking/);
      assert.deepEqual(await f.driver.listInstances(), []);
      assert.notEqual(spawnSync('ip', ['link', 'show', 'tapnonetns']).status, 0, 'no tap on the machine');
    } finally {
      await f.cleanup();
    }
  });

  // Images without kernel_id boot like real hardware: SeaBIOS runs the disk's MBR, which
  // chains to syslinux on the FAT partition. The console shows SYSLINUX before the kernel,
  // so a direct kernel boot could not pass this test.
  const wholeDiskSkip = ensureWholeDiskPackages();
  test('qemu driver: whole-disk images (raw and qcow2) boot through the BIOS', { skip: wholeDiskSkip }, async (t) => {
    const f = await fixture(images);
    await f.driver.init('contract-host');
    const started = Date.now();
    for (const image of [images.wholeRaw, images.wholeQcow2]) await images.fetch(image.id);
    t.diagnostic(`whole-disk images ready (built or cached) in ${Date.now() - started} ms`);
    const vms = [images.wholeRaw, images.wholeQcow2].map((image) => {
      const name = `bios-${image.disk_format}`;
      return { name, vm: f.instance({ image, image_ref: image.id, display_name: name, hostname: name }) };
    });
    try {
      await Promise.all(
        vms.map(async ({ name, vm }) => {
          const t0 = Date.now();
          await f.driver.spawn(vm);
          const out = await waitConsole(f.driver, vm.uuid, new RegExp(`=== tiny-linux ${name} up`), 90_000);
          t.diagnostic(`${name}: spawn to banner ${Date.now() - t0} ms`);
          // "Loading vmlinuz... ok" is SYSLINUX's own line (its banner may come before its
          // serial console is set up, so it is not always in the log).
          assert.match(out, /Loading vmlinuz\.\.\. ?ok[\s\S]*Linux version/, 'booted by the bootloader on its disk');
          assert.match(out, /Command line: BOOT_IMAGE=vmlinuz console=ttyS0/);
        }),
      );
    } finally {
      for (const { vm } of vms) await f.driver.destroy(vm.uuid);
      assert.deepEqual(await f.driver.listInstances(), []);
      await f.cleanup();
    }
  });
}

/** Installs the whole-disk image's packages (as openstack-cli.test.ts does); the skip reason when that fails. */
function ensureWholeDiskPackages(): string | undefined {
  const script = fileURLToPath(new URL('../../../scripts/ensure-system-packages.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script, ...WHOLE_DISK_PACKAGES], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const why = `${r.stdout}${r.stderr}`.trim().split('\n').slice(-3).join('; ');
  return `cannot install ${WHOLE_DISK_PACKAGES.join(' ')} (needed to build the whole-disk image): ${why}`;
}

/** Waits until the console, from offset `from` on, matches re; returns the console up to the end of the match. */
async function waitConsole(driver: QemuDriver, uuid: string, re: RegExp, ms: number, from = 0): Promise<string> {
  const until = Date.now() + ms;
  let out = '';
  while (Date.now() < until) {
    out = await driver.consoleOutput(uuid);
    const m = re.exec(out.slice(from));
    if (m) return out.slice(0, from + m.index + m[0].length);
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`console did not show ${re} within ${ms} ms; it shows:\n${out.slice(-2000)}`);
}
