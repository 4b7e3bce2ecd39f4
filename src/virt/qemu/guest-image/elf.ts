/**
 * Just enough ELF reading to assemble the guest without running any of its binaries: the
 * shared libraries a dynamically linked program needs (DT_NEEDED, PT_INTERP) and the modules a
 * kernel module depends on (`depends=` in its .modinfo). 64-bit little-endian only (x86-64).
 */

export interface ElfDeps {
  /** The program interpreter (e.g. /lib64/ld-linux-x86-64.so.2), null for static binaries and libraries. */
  interp: string | null;
  /** Sonames from DT_NEEDED, in file order. */
  needed: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end < 0 ? buf.length : end);
}

/** Reads interpreter and DT_NEEDED of an ELF64 LE file. Throws when buf is not one. */
export function elfDeps(buf: Buffer): ElfDeps {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const loads: { vaddr: bigint; offset: bigint; filesz: bigint }[] = [];
  let interp: string | null = null;
  let dynamic: { offset: number; size: number } | null = null;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    const type = buf.readUInt32LE(p);
    const offset = buf.readBigUInt64LE(p + 8);
    const vaddr = buf.readBigUInt64LE(p + 16);
    const filesz = buf.readBigUInt64LE(p + 32);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_INTERP) interp = cString(buf, Number(offset));
    else if (type === PT_DYNAMIC) dynamic = { offset: Number(offset), size: Number(filesz) };
  }
  if (!dynamic) return { interp, needed: [] };
  const neededOffsets: bigint[] = [];
  let strtab: bigint | null = null;
  for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size; at += 16) {
    const tag = buf.readBigInt64LE(at);
    const val = buf.readBigUInt64LE(at + 8);
    if (tag === 0n) break;
    if (tag === DT_NEEDED) neededOffsets.push(val);
    else if (tag === DT_STRTAB) strtab = val;
  }
  if (strtab === null) return { interp, needed: [] };
  // DT_STRTAB is an address: map it to a file offset through the segment that loads it.
  const seg = loads.find((l) => strtab! >= l.vaddr && strtab! < l.vaddr + l.filesz);
  if (!seg) throw new Error('ELF string table is outside every loaded segment');
  const strOff = Number(strtab - seg.vaddr + seg.offset);
  return { interp, needed: neededOffsets.map((o) => cString(buf, strOff + Number(o))) };
}

/** The module names a kernel module (.ko) depends on, from its `depends=` modinfo entry. */
export function moduleDepends(ko: Buffer): string[] {
  const key = Buffer.from('depends=');
  for (let at = ko.indexOf(key); at >= 0; at = ko.indexOf(key, at + 1)) {
    if (at > 0 && ko[at - 1] !== 0) continue;
    const value = cString(ko, at + key.length);
    return value ? value.split(',').map(moduleName) : [];
  }
  return [];
}

/** Kernel module names treat '-' and '_' alike; this is the '_' spelling. */
export function moduleName(name: string): string {
  return name.replace(/\.ko$/, '').replace(/-/g, '_');
}

/**
 * Orders the wanted modules and everything they depend on so that each comes after its
 * dependencies. depsOf returns a module's dependencies, or undefined for a module that has no
 * .ko file (built into the kernel): such a module is left out of the order.
 */
export function moduleLoadOrder(wanted: string[], depsOf: (name: string) => string[] | undefined): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: string[]) => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`kernel module dependency cycle: ${[...chain, name].join(' -> ')}`);
    const deps = depsOf(name);
    if (deps === undefined) {
      state.set(name, 'done'); // built into the kernel (or absent): nothing to load
      return;
    }
    state.set(name, 'visiting');
    for (const d of deps) visit(d, [...chain, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const w of wanted) visit(moduleName(w), []);
  return order;
}
