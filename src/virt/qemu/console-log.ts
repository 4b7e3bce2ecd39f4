/**
 * The guest's serial console log, kept to a bounded size.
 *
 * QEMU writes the first serial port to `<dir>/console.log` through a file chardev opened with
 * O_APPEND (`-chardev file,id=console,path=<dir>/console.log,append=on`). That flag is what makes
 * rotation by truncation work: after the file is truncated, every write lands at the new end of
 * the file instead of at QEMU's old offset (which would leave a hole of NULs the old size long).
 *
 * Rotation keeps at most one older part, `<path>.0`, so the log takes at most about twice the cap
 * on disk, and the console output read back is `.0` followed by the live file.
 */
import { open, rename, rm, stat, writeFile, appendFile, type FileHandle } from 'node:fs/promises';

/** A sensible cap for one guest's live console log. */
export const DEFAULT_CONSOLE_LOG_CAP_BYTES = 1024 * 1024;

/**
 * When the file at path is larger than capBytes: moves its last capBytes (from the first line
 * that starts within them) to `path + '.0'`, replacing that file, and truncates path to 0 bytes.
 * Returns whether it rotated; a missing file is not rotated. Writers holding an O_APPEND fd carry
 * on at the new end of the file.
 *
 * Bytes the guest writes between the last read of the file and its truncation (a window of
 * microseconds, after a catch-up read) are lost: copy-then-truncate cannot be atomic against a
 * writer that is not told. Not safe to run twice at once on the same path: callers serialize
 * rotations per guest.
 */
export async function rotateConsoleLog(path: string, capBytes: number): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  try {
    const { size } = await fh.stat();
    if (size <= capBytes) return false;
    const start = size - capBytes;
    const kept = await readFrom(fh, start);
    const from = (await byteAt(fh, start - 1)) === 0x0a ? 0 : afterFirstNewline(kept.data);
    const older = `${path}.0`;
    const tmp = `${older}.tmp-${process.pid}`;
    try {
      await writeFile(tmp, kept.data.subarray(from));
      await rename(tmp, older);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    // Catch up with what the guest wrote while .0 was being written, then truncate at once.
    const late = await readFrom(fh, kept.end);
    if (late.data.length > 0) await appendFile(older, late.data);
    await fh.truncate(0);
    return true;
  } finally {
    await fh.close();
  }
}

/**
 * The console output: `.0` followed by the live file, its last `lines` lines (all when
 * undefined, '' for 0). Reads at most maxBytes from the end (default twice the default cap);
 * when that cuts a line, the cut line is left out. Decoded as UTF-8 with invalid bytes replaced;
 * terminal escape sequences, NULs and other control characters except newline and tab are
 * removed (Nova strips control characters from console output too; `\r\n` becomes `\n`).
 * A missing log gives ''.
 */
export async function readConsoleTail(
  path: string,
  lines?: number,
  opts: { maxBytes?: number } = {},
): Promise<string> {
  if (lines !== undefined && lines <= 0) return '';
  const maxBytes = opts.maxBytes ?? 2 * DEFAULT_CONSOLE_LOG_CAP_BYTES;
  // Older part first: a rotation between the two reads then loses a chunk for this one read,
  // rather than showing it twice.
  const olderSize = await sizeOf(`${path}.0`);
  const currentSize = await sizeOf(path);
  const fromCurrent = Math.min(currentSize, maxBytes);
  const fromOlder = Math.min(olderSize, maxBytes - fromCurrent);
  const older = fromOlder > 0 ? await readTail(`${path}.0`, fromOlder) : null;
  const current = await readTail(path, fromCurrent);
  let bytes = older ? Buffer.concat([older.data, current.data]) : current.data;
  // Where the bytes read start mid-line, that partial line is left out.
  const cut = older ? older.cut : current.cut;
  if (cut) bytes = bytes.subarray(afterFirstNewline(bytes));
  const text = cleanConsoleText(new TextDecoder('utf-8').decode(bytes));
  return lines === undefined ? text : lastLines(text, lines);
}

/** Removes escape sequences and control characters other than \n and \t. */
export function cleanConsoleText(text: string): string {
  /* eslint-disable no-control-regex -- matching control characters is the point here */
  return text
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '') // CSI sequences (colours, cursor moves)
    .replace(/\x1b[ -/]*[0-~]/g, '') // other escape sequences (charset, reset, keypad modes)
    .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '');
  /* eslint-enable no-control-regex */
}

function lastLines(text: string, n: number): string {
  let end = text.length;
  if (text.endsWith('\n')) end -= 1;
  let pos = end;
  for (let i = 0; i < n; i++) {
    pos = text.lastIndexOf('\n', pos - 1);
    if (pos < 0) return text;
  }
  return text.slice(pos + 1);
}

/** The offset just past the first newline, or 0 when there is none (keep everything). */
function afterFirstNewline(buf: Buffer): number {
  const i = buf.indexOf(0x0a);
  return i < 0 ? 0 : i + 1;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

/** The last n bytes of the file (fewer if it shrank), and whether they start mid-line. */
async function readTail(path: string, n: number): Promise<{ data: Buffer; cut: boolean }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { data: Buffer.alloc(0), cut: false };
    throw e;
  }
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - n);
    const buf = Buffer.alloc(size - start);
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    const cut = start > 0 && (await byteAt(fh, start - 1)) !== 0x0a;
    return { data: buf.subarray(0, bytesRead), cut };
  } finally {
    await fh.close();
  }
}

/** Everything from offset to the current end of file, and that end. */
async function readFrom(fh: FileHandle, offset: number): Promise<{ data: Buffer; end: number }> {
  const chunks: Buffer[] = [];
  let pos = offset;
  while (true) {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    chunks.push(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
  return { data: Buffer.concat(chunks), end: pos };
}

async function byteAt(fh: FileHandle, offset: number): Promise<number | null> {
  if (offset < 0) return null;
  const buf = Buffer.alloc(1);
  const { bytesRead } = await fh.read(buf, 0, 1, offset);
  return bytesRead === 1 ? buf[0] : null;
}
