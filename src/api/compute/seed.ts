/** DevStack's default flavors, registered on start. */
import type { Sql } from '../../db/sql.js';
import { nowIso } from '../../util/time.js';

/** [flavorid, name, ram MB, vcpus, disk GB] as DevStack creates them. */
const DEFAULT_FLAVORS: readonly [string, string, number, number, number][] = [
  ['1', 'm1.tiny', 512, 1, 1],
  ['2', 'm1.small', 2048, 1, 20],
  ['3', 'm1.medium', 4096, 2, 40],
  ['4', 'm1.large', 8192, 4, 80],
  ['5', 'm1.xlarge', 16384, 8, 160],
  ['42', 'm1.nano', 128, 1, 1],
  ['84', 'm1.micro', 192, 1, 1],
  ['c1', 'cirros256', 256, 1, 1],
  ['d1', 'ds512M', 512, 1, 5],
  ['d2', 'ds1G', 1024, 1, 10],
  ['d3', 'ds2G', 2048, 2, 10],
  ['d4', 'ds4G', 4096, 4, 20],
];

/**
 * Idempotent: on a cloud with no flavors at all, creates the defaults; otherwise does nothing,
 * so flavors an operator deleted or replaced stay that way across restarts.
 */
export async function seedFlavors(sql: Sql): Promise<void> {
  await sql.tx(async (tx) => {
    if (await tx.get('SELECT 1 AS x FROM flavors LIMIT 1')) return;
    for (const [flavorid, name, ram, vcpus, disk] of DEFAULT_FLAVORS) {
      const taken = await tx.get('SELECT 1 AS x FROM flavors WHERE flavorid = ? OR name = ?', [flavorid, name]);
      if (taken) continue;
      await tx.run(
        `INSERT INTO flavors (flavorid, name, memory_mb, vcpus, root_gb, ephemeral_gb, swap, rxtx_factor, is_public, disabled, description, created_at)
         VALUES (?, ?, ?, ?, ?, 0, 0, 1.0, 1, 0, NULL, ?)`,
        [flavorid, name, ram, vcpus, disk, nowIso()],
      );
    }
  });
}
