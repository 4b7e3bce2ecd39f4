/**
 * The virtual size of a disk image as Glance's format inspector reports it: the file size for
 * raw and iso, the size field of the header for qcow2, null when it cannot be told (other
 * formats, or data that does not look like the declared format).
 */
export function virtualSize(diskFormat: string | null, head: Buffer, size: number): number | null {
  if (diskFormat === 'raw' || diskFormat === 'iso') return size;
  if (diskFormat === 'qcow2') {
    if (head.length < 32 || head.readUInt32BE(0) !== 0x514649fb) return null;
    const v = head.readBigUInt64BE(24);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : null;
  }
  return null;
}
