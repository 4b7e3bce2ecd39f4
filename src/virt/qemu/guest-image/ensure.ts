/**
 * tiny-linux, the test guest image of nova-ts, built offline from Debian packages and cached.
 *
 * ensureGuestImage returns the kernel, initramfs and root disk of the current tiny-linux,
 * building it first when the cache lacks it. Cache layout under cacheDir:
 *   debs/                 downloaded .debs (kept, so a rebuild downloads only what changed)
 *   <version>/            one complete build: vmlinuz, initrd.img, disk.qcow2, manifest.json
 *   resolved.json         the packages apt's lists resolved to (reused while the lists are unchanged)
 *   .build-XXXXXX/        a build in progress (renamed to <version>/ when complete)
 * The version is a short hash of the package versions and of the guest's own files, so a new
 * kernel or an edited init script makes a new image; old versions are left in place.
 *
 * Guarantees: a returned version directory is complete (builds are renamed into place whole),
 * so concurrent callers (threads or processes) are safe: each may build, the first rename
 * wins and the others use its result. Needs no root. When apt cannot resolve the packages,
 * the newest complete build in the cache is used if there is one; else the Error says what to
 * do (`apt-get update` as root).
 *
 * Booting it: `-kernel vmlinuz -initrd initrd.img -append "console=ttyS0"` on `-machine pc`
 * (the initramfs is the whole system; root= is ignored). See guest-files.ts for what the guest does.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { aptListsStamp, resolvePackages, downloadDebs, type AptOptions, type DebPackage } from './apt.js';
import { buildFromDebs, GUEST_MODULES } from './build.js';
import { diskReadme, GUEST_FILES } from './guest-files.js';

export interface GuestImageFiles {
  /** Absolute path of the kernel (bzImage). */
  kernel: string;
  /** Absolute path of the initramfs (gzip'd cpio). */
  ramdisk: string;
  /** Absolute path of the root disk (qcow2, 64 MiB virtual, ext4 with a README). */
  disk: string;
  /** Short hash naming this build (packages + guest files). */
  version: string;
}

export interface EnsureGuestImageOptions {
  cacheDir: string;
  log?: (msg: string) => void;
  /** For tests: extra apt `-o` options and another package lists directory. */
  apt?: { options: AptOptions; listsDir: string };
}

export interface GuestImageManifest {
  version: string;
  kernelRelease: string;
  packages: DebPackage[];
  modules: string[];
  builtAt: string;
  buildSeconds: number;
}

/** Bump when build.ts changes what it makes from the same packages and guest files. */
const BUILD_FORMAT = 1;
const FILES = { kernel: 'vmlinuz', ramdisk: 'initrd.img', disk: 'disk.qcow2' } as const;

/** The version of the image these packages make with the current guest files. */
export function imageVersion(pkgs: DebPackage[]): string {
  const h = createHash('sha256');
  h.update(`tiny-linux build format ${BUILD_FORMAT}\nmodules ${GUEST_MODULES.join(',')}\n`);
  for (const p of [...pkgs].sort((a, b) => (a.name < b.name ? -1 : 1))) h.update(`package ${p.name} ${p.version} ${p.arch} ${p.role}\n`);
  for (const f of GUEST_FILES) h.update(`file ${f.path} ${f.mode.toString(8)} ${f.text.length}\n${f.text}\n`);
  h.update(diskReadme(''));
  return h.digest('hex').slice(0, 12);
}

/** The files of a complete build in dir, or null. */
async function complete(dir: string): Promise<{ files: GuestImageFiles; manifest: GuestImageManifest } | null> {
  const manifest = await readFile(join(dir, 'manifest.json'), 'utf8')
    .then((t) => JSON.parse(t) as GuestImageManifest)
    .catch(() => null);
  if (!manifest) return null;
  const files: GuestImageFiles = {
    kernel: join(dir, FILES.kernel),
    ramdisk: join(dir, FILES.ramdisk),
    disk: join(dir, FILES.disk),
    version: manifest.version,
  };
  for (const p of [files.kernel, files.ramdisk, files.disk]) if (!(await stat(p).catch(() => null))?.isFile()) return null;
  return { files, manifest };
}

async function newestBuild(cacheDir: string): Promise<GuestImageFiles | null> {
  let best: { files: GuestImageFiles; manifest: GuestImageManifest } | null = null;
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (name.startsWith('.') || name === 'debs') continue;
    const c = await complete(join(cacheDir, name));
    if (c && (!best || c.manifest.builtAt > best.manifest.builtAt)) best = c;
  }
  return best?.files ?? null;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** Removes build directories left by processes that died mid-build (older than an hour). */
async function removeStaleBuilds(cacheDir: string): Promise<void> {
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (!name.startsWith('.build-')) continue;
    const st = await stat(join(cacheDir, name)).catch(() => null);
    if (st && Date.now() - st.mtimeMs > 3600_000) await rm(join(cacheDir, name), { recursive: true, force: true });
  }
}

/**
 * The current tiny-linux image, built into cacheDir when missing (about half a minute cold,
 * mostly the kernel download and extraction). Idempotent; safe to call concurrently.
 */
export async function ensureGuestImage(opts: EnsureGuestImageOptions): Promise<GuestImageFiles> {
  const log = opts.log ?? (() => undefined);
  const cacheDir = resolve(opts.cacheDir);
  const aptOptions = opts.apt?.options ?? [];
  await mkdir(cacheDir, { recursive: true });
  const resolvedPath = join(cacheDir, 'resolved.json');

  // Fast path: apt's lists are as they were when the packages were last resolved from them.
  const stamp = await aptListsStamp(opts.apt?.listsDir);
  if (stamp) {
    const prev = await readFile(resolvedPath, 'utf8')
      .then((t) => JSON.parse(t) as { aptStamp: string; packages: DebPackage[] })
      .catch(() => null);
    const done = prev?.aptStamp === stamp && Array.isArray(prev.packages) ? await complete(join(cacheDir, imageVersion(prev.packages))) : null;
    if (done) return done.files;
  }

  let pkgs: DebPackage[];
  try {
    pkgs = await resolvePackages(aptOptions);
  } catch (e) {
    const fallback = await newestBuild(cacheDir);
    if (!fallback) throw e;
    log(`using cached tiny-linux ${fallback.version}: ${(e as Error).message}`);
    return fallback;
  }
  const version = imageVersion(pkgs);
  const finalDir = join(cacheDir, version);
  let done = await complete(finalDir);
  if (!done) {
    await removeStaleBuilds(cacheDir);
    // Builds are renamed into place whole, so a partial version directory was damaged by hand.
    if (await stat(finalDir).catch(() => null)) {
      log(`removing the incomplete tiny-linux build in ${finalDir}`);
      await rm(finalDir, { recursive: true, force: true });
    }
    const started = Date.now();
    log(`building tiny-linux ${version} in ${cacheDir} from ${pkgs.map((p) => `${p.name} ${p.version}`).join(', ')}`);
    const work = await mkdtemp(join(cacheDir, '.build-'));
    try {
      const debs = await downloadDebs(pkgs, join(cacheDir, 'debs'), join(work, 'download'), aptOptions);
      const out = join(work, 'out');
      const built = await buildFromDebs(pkgs, debs, version, work, out);
      const manifest: GuestImageManifest = {
        version,
        kernelRelease: built.kernelRelease,
        packages: pkgs,
        modules: built.modules,
        builtAt: new Date().toISOString(),
        buildSeconds: (Date.now() - started) / 1000,
      };
      await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
      try {
        await rename(out, finalDir);
        log(`built tiny-linux ${version} (kernel ${built.kernelRelease}) in ${manifest.buildSeconds.toFixed(1)} s`);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
        log(`tiny-linux ${version} was built meanwhile by another process; using that one`);
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    done = await complete(finalDir);
    if (!done) throw new Error(`tiny-linux ${version} in ${finalDir} is incomplete after building`);
  }
  if (stamp) await writeAtomic(resolvedPath, JSON.stringify({ aptStamp: stamp, packages: pkgs }) + '\n');
  return done.files;
}
