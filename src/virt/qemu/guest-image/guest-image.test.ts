/**
 * Builds tiny-linux (cached under os.tmpdir()/nova-ts-guest-image-cache, so only the first run
 * downloads and builds) and boots it with qemu-system-x86_64 under TCG, as the qemu driver
 * does: direct kernel boot on `pc`, serial console to a file, QMP on a unix socket.
 * Two guests boot side by side: one with a config drive and no NIC, one with a NIC (QEMU user
 * networking, restricted: no route out) that reads the metadata service and serves SSH/HTTP
 * through ports forwarded on 127.0.0.1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureGuestImage, type GuestImageFiles } from './index.js';

const QEMU = 'qemu-system-x86_64';
const hasQemu = spawnSync(QEMU, ['--version']).status === 0;
const hasSsh = spawnSync('ssh', ['-V']).status === 0 && spawnSync('ssh-keygen', ['--help']).error === undefined;
const skip = hasQemu ? false : `${QEMU} is not installed (Debian package qemu-system-x86)`;
const CACHE = join(tmpdir(), 'nova-ts-guest-image-cache');

let image: GuestImageFiles;
let work: string;
let pubkey: string;

/** A free TCP port on 127.0.0.1 (closed again at once: QEMU binds it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Sends QMP commands (after qmp_capabilities) and resolves once each has answered. */
function qmp(socket: string, commands: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    let buf = '';
    let answered = -1; // the greeting is not an answer
    const queue = ['qmp_capabilities', ...commands];
    c.on('error', reject);
    c.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const msg = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        if ('event' in msg) continue;
        if ('error' in msg) return reject(new Error(JSON.stringify(msg.error)));
        answered++;
        if (answered < queue.length) c.write(JSON.stringify({ execute: queue[answered] }) + '\n');
        else {
          c.end();
          resolve();
        }
      }
    });
  });
}

interface Guest {
  proc: ChildProcess;
  startedAt: number;
  consoleLog: string;
  qmpSocket: string;
  exited: Promise<number | null>;
  console(): string;
  waitFor(re: RegExp, timeoutMs: number): Promise<number>;
}

function boot(name: string, extra: string[], netns?: string): Guest {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const overlay = join(dir, 'root.qcow2');
  const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.disk, '-F', 'qcow2', overlay, '1G']);
  assert.equal(r.status, 0, r.stderr?.toString());
  const consoleLog = join(dir, 'console.log');
  const qmpSocket = join(dir, 'qmp.sock');
  const args = [
    '-machine', 'pc', '-accel', 'tcg', '-m', '256', '-nodefaults', '-no-user-config', '-display', 'none',
    '-kernel', image.kernel, '-initrd', image.ramdisk, '-append', 'root=/dev/vda console=ttyS0',
    '-drive', `file=${overlay},if=virtio,format=qcow2`,
    '-serial', `file:${consoleLog}`,
    '-qmp', `unix:${qmpSocket},server=on,wait=off`,
    ...extra,
  ];
  // In a network namespace `ip netns exec` execs QEMU, so the pid stays QEMU's own.
  const proc = netns ? spawn('ip', ['netns', 'exec', netns, QEMU, ...args], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn(QEMU, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  // The serial line ends lines with CR LF.
  const read = () => (existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8').replace(/\r\n/g, '\n') : '');
  const startedAt = Date.now();
  return {
    proc,
    startedAt,
    consoleLog,
    qmpSocket,
    exited,
    console: read,
    async waitFor(re, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (re.test(read())) return (Date.now() - startedAt) / 1000;
        if (proc.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.fail(`no ${re} on ${name}'s console after ${timeoutMs / 1000} s; qemu stderr: ${stderr}\nconsole:\n${read().slice(-3000)}`);
    },
  };
}

/** Asks the guest to power off over QMP; resolves with the seconds until QEMU exited. */
async function powerdown(g: Guest): Promise<number> {
  const t0 = Date.now();
  await qmp(g.qmpSocket, ['system_powerdown']);
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([g.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 20_000)))]);
  clearTimeout(timer);
  assert.notEqual(code, 'timeout', `QEMU still running 20 s after system_powerdown; console:\n${g.console().slice(-2000)}`);
  assert.equal(code, 0);
  return (Date.now() - t0) / 1000;
}

function kill(g: Guest | undefined): void {
  if (g && g.proc.exitCode === null && g.proc.pid) process.kill(g.proc.pid, 'SIGKILL');
}

describe('tiny-linux guest image', { skip, concurrency: 2 }, () => {
  before(async () => {
    const t0 = Date.now();
    image = await ensureGuestImage({ cacheDir: CACHE, log: (m) => console.log(`# ${m}`) });
    console.log(`# ensureGuestImage: ${((Date.now() - t0) / 1000).toFixed(2)} s (version ${image.version})`);
    work = mkdtempSync(join(tmpdir(), 'nova-ts-guest-boot-'));
    const key = join(work, 'id_ed25519');
    if (hasSsh) {
      assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tester@nova-ts', '-f', key]).status, 0);
      pubkey = readFileSync(`${key}.pub`, 'utf8').trim();
    } else pubkey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3Qta2V5LW5vdC1yZWFsLWF0LWFsbC0wMDAwMDA tester@nova-ts';
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('config drive, no NIC: hostname banner, user data on the console, key installed, README on /dev/vda, ACPI power-off', async () => {
    const cd = join(work, 'cd');
    mkdirSync(join(cd, 'openstack/latest'), { recursive: true });
    const md = {
      uuid: '8d5f7e4c-1b1e-4f61-9a51-0c6f1f2d3a4b',
      meta: { name: 'not-the-name' },
      public_keys: { mykey: `${pubkey}\n` },
      keys: [{ name: 'mykey', type: 'ssh', data: pubkey }],
      hostname: 'tiny-test.novalocal',
      name: 'tiny test',
      launch_index: 0,
    };
    writeFileSync(join(cd, 'openstack/latest/meta_data.json'), JSON.stringify(md));
    writeFileSync(
      join(cd, 'openstack/latest/user_data'),
      '#!/bin/sh\necho hello-from-user-data\nsed "s/^/authorized: /" /root/.ssh/authorized_keys\nls /mnt/root | sed "s/^/rootfs: /"\n',
    );
    const iso = join(work, 'cd.iso');
    const g = spawnSync('genisoimage', ['-quiet', '-o', iso, '-V', 'config-2', '-J', '-R', cd]);
    assert.equal(g.status, 0, g.stderr?.toString());
    let guest: Guest | undefined;
    try {
      guest = boot('cd-guest', ['-drive', `file=${iso},if=virtio,format=raw,readonly=on`]);
      const banner = await guest.waitFor(/=== tiny-linux tiny-test up: no network ===/, 90_000);
      console.log(`# config-drive guest: banner ${banner.toFixed(1)} s after QEMU start`);
      await guest.waitFor(/^hello-from-user-data/m, 30_000);
      await guest.waitFor(/user data exited with status 0/, 30_000);
      const out = guest.console();
      assert.ok(out.includes(`authorized: ${pubkey}\n`), `the key from public_keys is in /root/.ssh/authorized_keys; console:\n${out}`);
      assert.match(out, /rootfs: README\n/, 'user data sees the root disk mounted at /mnt/root');
      assert.ok(out.indexOf('running user data') < out.indexOf('=== tiny-linux'), 'banner comes after user data started');
      const off = await powerdown(guest);
      console.log(`# config-drive guest: powered off ${off.toFixed(1)} s after system_powerdown`);
      assert.ok(guest.console().includes('ACPI power button pressed'), 'acpid ran the power button handler');
      assert.ok(guest.console().includes('reboot: Power down'), 'the kernel powered off');
    } finally {
      kill(guest);
    }
  });

  test('NIC, no config drive: DHCP lease, metadata service, SSH with the key, HTTP page naming the instance', async () => {
    const md = { uuid: '0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5', public_keys: { k: pubkey }, hostname: 'meta-guest', name: 'web <one>' };
    const files: Record<string, string> = {
      md: httpResponse('200 OK', JSON.stringify(md)),
      ud: httpResponse('200 OK', '#!/bin/sh\necho user-data-from-metadata-service\n'),
      nf: httpResponse('404 Not Found', 'not found'),
    };
    const dir = join(work, 'mds');
    mkdirSync(dir, { recursive: true });
    for (const [k, v] of Object.entries(files)) writeFileSync(join(dir, `${k}.http`), v);
    // Each guest connection to 169.254.169.254:80 runs this: a canned answer chosen by the path.
    const responder = join(dir, 'responder.sh');
    writeFileSync(
      responder,
      `read -r method path proto\ncase "$path" in */meta_data.json) f=md ;; */user_data) f=ud ;; *) f=nf ;; esac\ncat "${dir}/$f.http"\n`,
    );
    // The guest's network (QEMU user networking, restricted: no route out) and the forwarded
    // ports live in a network namespace of this test's own, never on the machine's interfaces.
    const netns = `nova-ts-gi-${process.pid}`;
    assert.equal(spawnSync('ip', ['netns', 'add', netns]).status, 0, 'ip netns add failed (needs root and iproute2)');
    const inNs = (cmd: string, args: string[], timeout = 60_000) => spawnSync('ip', ['netns', 'exec', netns, cmd, ...args], { encoding: 'utf8', timeout });
    inNs('ip', ['link', 'set', 'lo', 'up']);
    const [sshPort, httpPort] = [await freePort(), await freePort()];
    let guest: Guest | undefined;
    try {
      guest = boot('net-guest', [
        '-netdev',
        `user,id=n0,net=169.254.0.0/16,restrict=on,hostfwd=tcp:127.0.0.1:${sshPort}-:22,hostfwd=tcp:127.0.0.1:${httpPort}-:80,guestfwd=tcp:169.254.169.254:80-cmd:sh ${responder}`,
        '-device',
        'virtio-net-pci,netdev=n0',
      ], netns);
      const banner = await guest.waitFor(/=== tiny-linux meta-guest up: 169\.254\.\d+\.\d+ ===/, 90_000);
      console.log(`# NIC guest: banner ${banner.toFixed(1)} s after QEMU start`);
      assert.ok(guest.console().includes('metadata read from http://169.254.169.254'));
      await guest.waitFor(/^user-data-from-metadata-service/m, 30_000);

      const get = `fetch('http://127.0.0.1:${httpPort}/').then((r) => r.text()).then((t) => process.stdout.write(t))`;
      const page = inNs(process.execPath, ['-e', get]).stdout;
      assert.match(page, /web &lt;one&gt;/);
      assert.match(page, /0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5/);

      if (hasSsh) {
        await guest.waitFor(/ssh server started/, 30_000);
        const t0 = Date.now();
        const r = inNs(
          'ssh',
          ['-i', join(work, 'id_ed25519'), '-p', String(sshPort), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
            '-o', 'ConnectTimeout=20', '-o', 'LogLevel=ERROR', 'root@127.0.0.1', 'hostname; id -u'],
        );
        assert.equal(r.status, 0, `ssh failed: ${r.stderr}`);
        assert.equal(r.stdout, 'meta-guest\n0\n');
        console.log(`# NIC guest: ssh login and command took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } else console.log('# ssh client not installed: SSH login not checked');

      const off = await powerdown(guest);
      console.log(`# NIC guest: powered off ${off.toFixed(1)} s after system_powerdown`);
    } finally {
      kill(guest);
      await guest?.exited;
      spawnSync('ip', ['netns', 'del', netns]);
    }
  });
});

function httpResponse(status: string, body: string): string {
  return `HTTP/1.0 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
