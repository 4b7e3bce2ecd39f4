/**
 * A valid, empty qcow2 image (version 2, 64 KiB clusters) made without qemu-img: the fake
 * driver's seed image is a real disk format, so volumes created from it (boot from volume
 * with the fake driver) go through the same qemu-img conversions as real images.
 *
 * Layout, one cluster each: 0 header, 1 refcount table, 2 refcount block, 3.. L1 table. Every
 * cluster in use has refcount 1; the L1 table is all zeros (nothing allocated, reads as zeros).
 */
const CLUSTER_BITS = 16;
const CLUSTER = 1 << CLUSTER_BITS;

export function emptyQcow2(virtualBytes: number): Buffer {
  const l2Span = (CLUSTER / 8) * CLUSTER; // bytes one L2 table maps
  const l1Size = Math.max(1, Math.ceil(virtualBytes / l2Span));
  const l1Clusters = Math.ceil((l1Size * 8) / CLUSTER);
  const clusters = 3 + l1Clusters;
  const out = Buffer.alloc(clusters * CLUSTER);
  // Header (QCowHeader, version 2).
  out.write('QFI\xfb', 0, 'latin1');
  out.writeUInt32BE(2, 4); // version
  out.writeBigUInt64BE(0n, 8); // backing_file_offset
  out.writeUInt32BE(0, 16); // backing_file_size
  out.writeUInt32BE(CLUSTER_BITS, 20);
  out.writeBigUInt64BE(BigInt(virtualBytes), 24); // size
  out.writeUInt32BE(0, 32); // crypt_method
  out.writeUInt32BE(l1Size, 36);
  out.writeBigUInt64BE(BigInt(3 * CLUSTER), 40); // l1_table_offset
  out.writeBigUInt64BE(BigInt(1 * CLUSTER), 48); // refcount_table_offset
  out.writeUInt32BE(1, 56); // refcount_table_clusters
  out.writeUInt32BE(0, 60); // nb_snapshots
  out.writeBigUInt64BE(0n, 64); // snapshots_offset
  // Refcount table -> the one refcount block; 16-bit refcounts for every cluster in use.
  out.writeBigUInt64BE(BigInt(2 * CLUSTER), CLUSTER);
  for (let c = 0; c < clusters; c++) out.writeUInt16BE(1, 2 * CLUSTER + c * 2);
  return out;
}
