/**
 * Assembles tiny-linux from downloaded .debs, as any user and without running any of the
 * guest's binaries: the kernel (vmlinuz), an initramfs (gzip'd cpio newc, every file owned by
 * root) holding busybox, dropbear with its shared libraries, the kernel modules the guest
 * loads and the files of guest-files.ts, and a small qcow2 root disk (ext4 made by
 * `mke2fs -d`, holding a README). Writes into outDir; scratch files go to workDir.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, open, readdir, readFile, readlink, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { DebPackage } from './apt.js';
import { elfDeps, moduleDepends, moduleLoadOrder, moduleName } from './elf.js';
import { diskReadme, GUEST_FILES } from './guest-files.js';
import { run } from './run.js';

/** Modules the guest loads (with their dependencies): virtio PCI, net and block, the config
 * drive's ISO 9660, the virtio RNG (entropy for the host key), and the ACPI power button as an
 * input event device for acpid. */
export const GUEST_MODULES = ['virtio_pci', 'virtio_net', 'virtio_blk', 'virtio_rng', 'isofs', 'button', 'evdev'];
export const DISK_VIRTUAL_SIZE = 64 * 1024 * 1024;
const LIB_DIRS = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib64', 'lib', 'usr/lib'];
const GUEST_LIB_DIR = 'lib/x86_64-linux-gnu';

export interface BuildOutput {
  kernel: string;
  ramdisk: string;
  disk: string;
  kernelRelease: string;
  modules: string[];
}

/** The real file behind path inside an extracted tree, following symlinks relative to root. */
async function resolveIn(root: string, rel: string): Promise<string | null> {
  let p = rel;
  for (let hops = 0; hops < 16; hops++) {
    const st = await lstat(join(root, p)).catch(() => null);
    if (!st) return null;
    if (!st.isSymbolicLink()) return join(root, p);
    const target = await readlink(join(root, p));
    p = target.startsWith('/') ? target.slice(1) : posix.join(posix.dirname(p), target);
  }
  return null;
}

async function extract(deb: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  await run('dpkg-deb', ['-x', deb, into]);
}

/** Copies a program and the shared libraries it needs (transitively) from tree into stage. */
async function installProgram(tree: string, rel: string, stage: string, copied: Set<string>): Promise<void> {
  const src = await resolveIn(tree, rel);
  if (!src) throw new Error(`${rel} is missing from the extracted packages`);
  await mkdir(dirname(join(stage, rel)), { recursive: true });
  await copyFile(src, join(stage, rel));
  await chmod(join(stage, rel), 0o755);
  const queue = [src];
  while (queue.length > 0) {
    const { interp, needed } = elfDeps(await readFile(queue.shift()!));
    const names = [...needed, ...(interp ? [basename(interp)] : [])];
    for (const soname of names) {
      if (copied.has(soname)) continue;
      let found: string | null = null;
      for (const dir of LIB_DIRS) if (!found) found = await resolveIn(tree, `${dir}/${soname}`);
      if (!found) throw new Error(`${rel} needs ${soname}, which none of the downloaded library packages provides`);
      await mkdir(join(stage, GUEST_LIB_DIR), { recursive: true });
      await copyFile(found, join(stage, GUEST_LIB_DIR, soname));
      copied.add(soname);
      queue.push(found);
    }
    if (interp && interp.slice(1) !== `${GUEST_LIB_DIR}/${basename(interp)}`) {
      await mkdir(dirname(join(stage, interp)), { recursive: true });
      await symlink(`/${GUEST_LIB_DIR}/${basename(interp)}`, join(stage, interp)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
    }
  }
}

/** Every .ko under dir, by module name. */
async function findModules(dir: string, out = new Map<string, string>()): Promise<Map<string, string>> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await findModules(p, out);
    else if (e.name.endsWith('.ko')) out.set(moduleName(e.name), p);
  }
  return out;
}

async function installModules(kernelTree: string, release: string, stage: string): Promise<string[]> {
  const modDir = join(kernelTree, 'lib/modules', release);
  const files = await findModules(join(modDir, 'kernel'));
  const builtin = new Set(
    (await readFile(join(modDir, 'modules.builtin'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => moduleName(basename(l))),
  );
  for (const m of GUEST_MODULES)
    if (!files.has(m) && !builtin.has(m)) throw new Error(`kernel ${release} has no module ${m} (neither a .ko file nor built in)`);
  // Read depends= of the modules reached from the wanted ones.
  const deps = new Map<string, string[]>();
  const pending = [...GUEST_MODULES];
  while (pending.length > 0) {
    const m = pending.pop()!;
    if (deps.has(m) || !files.has(m)) continue;
    const d = moduleDepends(await readFile(files.get(m)!));
    deps.set(m, d);
    pending.push(...d);
  }
  const order = moduleLoadOrder(GUEST_MODULES, (name) => (files.has(name) ? (deps.get(name) ?? []) : undefined));
  await mkdir(join(stage, 'lib/modules'), { recursive: true });
  for (const m of order) await copyFile(files.get(m)!, join(stage, 'lib/modules', `${m}.ko`));
  await writeFile(join(stage, 'lib/modules/load-order'), order.join('\n') + '\n');
  return order;
}

/** Paths under dir, relative, parents before their contents. */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(join(dir, prefix), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(rel);
    if (e.isDirectory()) out.push(...(await walk(dir, rel)));
  }
  return out;
}

/** Writes stage as a gzip'd cpio newc archive with every file owned by root. */
async function writeInitramfs(stage: string, out: string): Promise<void> {
  const names = await walk(stage);
  const cpio = spawn('cpio', ['-o', '-H', 'newc', '-R', '0:0', '--quiet'], { cwd: stage, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  cpio.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    cpio.on('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? new Error('cpio is not installed (Debian package cpio).') : e),
    );
    cpio.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`cpio failed (exit ${code}): ${stderr.trim()}`))));
  });
  cpio.stdin.end(names.join('\n') + '\n');
  await Promise.all([pipeline(cpio.stdout, createGzip({ level: 9 }), createWriteStream(out)), exited]);
}

async function writeDisk(workDir: string, version: string, out: string): Promise<void> {
  const content = join(workDir, 'disk-content');
  await mkdir(content, { recursive: true });
  await writeFile(join(content, 'README'), diskReadme(version));
  const raw = join(workDir, 'disk.raw');
  const fh = await open(raw, 'w');
  await fh.truncate(DISK_VIRTUAL_SIZE);
  await fh.close();
  await run('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', 'tiny-linux', '-d', content, '-E', 'root_owner=0:0', raw]);
  await run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, out]);
  await rm(raw, { force: true });
}

/** Builds the three files into outDir from the .debs of pkgs (paths by package name). */
export async function buildFromDebs(pkgs: DebPackage[], debs: Map<string, string>, version: string, workDir: string, outDir: string): Promise<BuildOutput> {
  const x = join(workDir, 'x');
  const stage = join(workDir, 'initramfs');
  await mkdir(outDir, { recursive: true });
  const kernelPkg = pkgs.find((p) => p.role === 'kernel')!;
  await extract(debs.get(kernelPkg.name)!, join(x, 'kernel'));
  for (const p of pkgs.filter((q) => q.role !== 'kernel')) await extract(debs.get(p.name)!, join(x, 'userland'));

  const vmlinuz = (await readdir(join(x, 'kernel/boot'))).find((n) => n.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new Error(`${kernelPkg.name} has no /boot/vmlinuz-*`);
  const release = vmlinuz.slice('vmlinuz-'.length);
  const kernel = join(outDir, 'vmlinuz');
  await copyFile(join(x, 'kernel/boot', vmlinuz), kernel);

  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'run', 'tmp', 'root', 'mnt', 'var/log', 'etc'])
    await mkdir(join(stage, d), { recursive: true });
  await chmod(join(stage, 'root'), 0o700);
  await chmod(join(stage, 'tmp'), 0o1777);
  await symlink('../run', join(stage, 'var/run'));
  const busybox = await resolveIn(join(x, 'userland'), 'bin/busybox').then((p) => p ?? resolveIn(join(x, 'userland'), 'usr/bin/busybox'));
  if (!busybox) throw new Error('busybox-static has no busybox binary');
  await copyFile(busybox, join(stage, 'bin/busybox'));
  await chmod(join(stage, 'bin/busybox'), 0o755);
  await symlink('busybox', join(stage, 'bin/sh'));
  await symlink('bin/busybox', join(stage, 'init'));

  const copied = new Set<string>();
  await installProgram(join(x, 'userland'), 'usr/sbin/dropbear', stage, copied);
  await installProgram(join(x, 'userland'), 'usr/bin/dropbearkey', stage, copied);
  const modules = await installModules(join(x, 'kernel'), release, stage);

  for (const f of GUEST_FILES) {
    const p = join(stage, f.path);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, f.text);
    await chmod(p, f.mode);
  }
  await writeFile(join(stage, 'etc/tiny-linux-release'), `tiny-linux ${version} (kernel ${release})\n`);

  const ramdisk = join(outDir, 'initrd.img');
  await writeInitramfs(stage, ramdisk);
  const disk = join(outDir, 'disk.qcow2');
  await writeDisk(workDir, version, disk);
  // Not needed once built: the extracted kernel alone is ~100 MB.
  await rm(x, { recursive: true, force: true });
  return { kernel: await realpath(kernel), ramdisk: await realpath(ramdisk), disk: await realpath(disk), kernelRelease: release, modules };
}
