/**
 * The Debian packages tiny-linux is made of, resolved and downloaded with the ordinary apt
 * tools as any user (apt-cache, apt-get download: no root, nothing installed):
 * the cloud kernel that linux-image-cloud-amd64 depends on, busybox-static, and dropbear-bin
 * with the libraries it depends on (recursively). Needs package lists (`apt-get update`).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './run.js';

export const KERNEL_META_PACKAGE = 'linux-image-cloud-amd64';
export const BUSYBOX_PACKAGE = 'busybox-static';
export const DROPBEAR_PACKAGE = 'dropbear-bin';
const APT_LISTS_DIR = '/var/lib/apt/lists';

export type PackageRole = 'kernel' | 'busybox' | 'dropbear' | 'library';

export interface DebPackage {
  name: string;
  version: string;
  arch: string;
  role: PackageRole;
}

/** Extra `-o` options for apt (tests point apt at other package lists with them). */
export type AptOptions = string[];

const UPDATE_HINT = 'The package lists may be missing or out of date: run `apt-get update` as root, then try again.';

function listsError(what: string, detail: string): Error {
  return new Error(`Cannot build the tiny-linux guest image: ${what}. ${UPDATE_HINT}${detail ? ` (apt said: ${detail})` : ''}`);
}

/** Package names and their Depends/PreDepends from `apt-cache depends` output (virtual packages skipped). */
export function parseAptDepends(out: string): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) {
      current = line.startsWith('<') ? null : [];
      if (current) deps.set(line.trim(), current);
      continue;
    }
    const m = /^\s+\|?(?:Pre)?Depends: (\S+)/.exec(line);
    if (m && current && !m[1].startsWith('<')) current.push(m[1]);
  }
  return deps;
}

/** Package, Version and Architecture of each stanza of `apt-cache show` output. */
export function parseAptShow(out: string): Map<string, { version: string; arch: string }> {
  const found = new Map<string, { version: string; arch: string }>();
  for (const stanza of out.split(/\n\s*\n/)) {
    const field = (f: string) => new RegExp(`^${f}: (.+)$`, 'm').exec(stanza)?.[1]?.trim();
    const name = field('Package');
    const version = field('Version');
    const arch = field('Architecture');
    if (name && version && arch && !found.has(name)) found.set(name, { version, arch });
  }
  return found;
}

async function aptCache(opts: AptOptions, args: string[]): Promise<string> {
  const o = opts.flatMap((x) => ['-o', x]);
  return (await run('apt-cache', [...o, ...args])).stdout;
}

/**
 * The packages to build from, with the versions apt would download now. Throws an Error that
 * says to run `apt-get update` when the package lists do not know them.
 */
export async function resolvePackages(opts: AptOptions = []): Promise<DebPackage[]> {
  let kernel: string | undefined;
  let libs: string[];
  try {
    const meta = parseAptDepends(await aptCache(opts, ['depends', KERNEL_META_PACKAGE]));
    kernel = meta.get(KERNEL_META_PACKAGE)?.find((d) => /^linux-image-\d.*-cloud-amd64$/.test(d));
    const recursive = ['--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances'];
    libs = [...parseAptDepends(await aptCache(opts, ['depends', ...recursive, DROPBEAR_PACKAGE])).keys()].filter((n) => n !== DROPBEAR_PACKAGE);
  } catch (e) {
    throw listsError(`apt-cache could not resolve ${KERNEL_META_PACKAGE} and ${DROPBEAR_PACKAGE}`, (e as Error).message);
  }
  if (!kernel) throw listsError(`apt knows no kernel package that ${KERNEL_META_PACKAGE} depends on`, '');
  const wanted: [string, PackageRole][] = [
    [kernel, 'kernel'],
    [BUSYBOX_PACKAGE, 'busybox'],
    [DROPBEAR_PACKAGE, 'dropbear'],
    ...libs.map((n): [string, PackageRole] => [n, 'library']),
  ];
  let shown: Map<string, { version: string; arch: string }>;
  try {
    shown = parseAptShow(await aptCache(opts, ['show', '--no-all-versions', ...wanted.map(([n]) => n)]));
  } catch (e) {
    throw listsError('apt-cache show failed', (e as Error).message);
  }
  return wanted.map(([name, role]) => {
    const s = shown.get(name);
    if (!s) throw listsError(`apt knows no version of ${name}`, '');
    return { name, version: s.version, arch: s.arch, role };
  });
}

/** The file name `apt-get download` gives a package's .deb. */
export function debFileName(p: DebPackage): string {
  return `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.arch}.deb`;
}

/**
 * Makes sure debsDir holds the .deb of every package (downloading the missing ones into
 * tmpDir, then renaming them in, so concurrent builders never see a partial file). Returns the
 * path of each package's .deb, by package name.
 */
export async function downloadDebs(pkgs: DebPackage[], debsDir: string, tmpDir: string, opts: AptOptions = []): Promise<Map<string, string>> {
  await mkdir(debsDir, { recursive: true });
  const have = new Set(await readdir(debsDir));
  const missing = pkgs.filter((p) => !have.has(debFileName(p)));
  if (missing.length > 0) {
    await mkdir(tmpDir, { recursive: true });
    const o = opts.flatMap((x) => ['-o', x]);
    // As root, apt would try (and fail) to hand the download to its _apt user: stay root.
    if (process.getuid?.() === 0) o.push('-o', 'APT::Sandbox::User=root');
    try {
      await run('apt-get', [...o, '-q', 'download', ...missing.map((p) => `${p.name}=${p.version}`)], { cwd: tmpDir });
    } catch (e) {
      throw new Error(
        `Cannot build the tiny-linux guest image: apt-get download of ${missing.map((p) => p.name).join(' ')} failed. ${UPDATE_HINT} (apt said: ${(e as Error).message})`,
        { cause: e },
      );
    }
    for (const p of missing) {
      const name = debFileName(p);
      await rename(join(tmpDir, name), join(debsDir, name)).catch((e: Error) => {
        throw new Error(`apt-get download did not produce ${name}: ${e.message}`);
      });
    }
  }
  return new Map(pkgs.map((p) => [p.name, join(debsDir, debFileName(p))]));
}

/**
 * A fingerprint of apt's package lists (names, sizes and times of the files in
 * /var/lib/apt/lists), or null when there are none. While it is unchanged, the packages
 * resolved from them are too, so a cached resolution can be reused without running apt.
 */
export async function aptListsStamp(dir = APT_LISTS_DIR): Promise<string | null> {
  const names = await readdir(dir).catch(() => null);
  if (!names) return null;
  const h = createHash('sha256');
  let files = 0;
  for (const name of names.sort()) {
    const st = await stat(join(dir, name)).catch(() => null);
    if (!st?.isFile()) continue;
    files++;
    h.update(`${name} ${st.size} ${st.mtimeMs}\n`);
  }
  return files > 0 ? h.digest('hex') : null;
}
