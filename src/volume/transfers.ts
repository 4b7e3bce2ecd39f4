/**
 * Volume transfers (Cinder's transfer API): the owning project offers an available volume
 * (it goes to awaiting-transfer) and gets an auth key once; any project presenting the key
 * accepts it: the volume (and, unless no_snapshots, its snapshots) moves to the accepting
 * project and user, within that project's quota, and is available again. Deleting the offer
 * puts the volume back to available. Only a salted sha256 of the key is stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Sql } from '../db/sql.js';
import { invalid, notFound } from '../errors.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import { checkVolumeQuota } from './quotas.js';
import { getVolume } from './repo.js';

export interface TransferRow {
  id: string;
  volume_id: string;
  project_id: string;
  name: string | null;
  salt: string;
  crypt_hash: string;
  no_snapshots: number;
  accepted: number;
  destination_project_id: string | null;
  created_at: string;
  updated_at: string | null;
  deleted: number;
}

const KEY_CHARS = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function newAuthKey(): string {
  return Array.from(randomBytes(16), (b) => KEY_CHARS[b % KEY_CHARS.length]).join('');
}

const hashOf = (salt: string, key: string) => createHash('sha256').update(`${salt}${key}`).digest('hex');

export const transferNotFound = (id: string) => notFound(`Transfer ${id} could not be found.`);

/** The live transfer (any project's: callers check who may see it). */
export async function getTransfer(sql: Sql, id: string): Promise<TransferRow> {
  const t = await sql.get<TransferRow>('SELECT * FROM volume_transfers WHERE id = ? AND deleted = 0', [id]);
  if (!t) throw transferNotFound(id);
  return t;
}

/** Offers the volume; answers the row and the auth key (shown this once). */
export async function createTransfer(
  sql: Sql,
  req: { volume_id: string; name?: string | null; no_snapshots?: boolean },
): Promise<{ transfer: TransferRow; authKey: string }> {
  const authKey = newAuthKey();
  const salt = randomBytes(8).toString('hex');
  const id = uuid();
  await sql.tx(async (tx) => {
    const v = await getVolume(tx, req.volume_id);
    const now = nowIso();
    const r = await tx.run("UPDATE volumes SET status = 'awaiting-transfer', updated_at = ? WHERE id = ? AND status = 'available' AND deleted = 0", [now, v.id]);
    if (r.changes !== 1) throw invalid(`Invalid volume: Status of volume must be available to transfer it, but current status is: ${v.status}.`);
    await tx.run(
      `INSERT INTO volume_transfers (id, volume_id, project_id, name, salt, crypt_hash, no_snapshots, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, v.id, v.project_id, req.name ?? null, salt, hashOf(salt, authKey), req.no_snapshots ? 1 : 0, now],
    );
  });
  return { transfer: await getTransfer(sql, id), authKey };
}

/** Withdraws the offer: the volume is available to its project again. */
export async function deleteTransfer(sql: Sql, id: string): Promise<void> {
  await sql.tx(async (tx) => {
    const t = await getTransfer(tx, id);
    const now = nowIso();
    await tx.run('UPDATE volume_transfers SET deleted = 1, updated_at = ? WHERE id = ?', [now, t.id]);
    await tx.run("UPDATE volumes SET status = 'available', updated_at = ? WHERE id = ? AND status = 'awaiting-transfer' AND deleted = 0", [now, t.volume_id]);
  });
}

/** Accepts the transfer for project/user with the auth key; the volume changes hands. */
export async function acceptTransfer(sql: Sql, id: string, authKey: string, to: { project_id: string; user_id: string }): Promise<TransferRow> {
  await sql.tx(async (tx) => {
    const t = await getTransfer(tx, id);
    const want = Buffer.from(t.crypt_hash, 'hex');
    const got = Buffer.from(hashOf(t.salt, authKey), 'hex');
    if (want.length !== got.length || !timingSafeEqual(want, got)) throw invalid(`Invalid auth key: Attempt to transfer ${id} with invalid auth key.`);
    const v = await getVolume(tx, t.volume_id);
    if (v.status !== 'awaiting-transfer') throw invalid(`Invalid volume: Transfer ${id}: volume ${v.id} is ${v.status}, not awaiting-transfer.`);
    const snaps = t.no_snapshots
      ? []
      : await tx.all<{ id: string; size: number }>('SELECT id, size FROM volume_snapshots WHERE volume_id = ? AND deleted = 0', [v.id]);
    if (to.project_id !== v.project_id) {
      await checkVolumeQuota(tx, to.project_id, { volumes: 1, gigabytes: Number(v.size) });
      if (snaps.length) await checkVolumeQuota(tx, to.project_id, { snapshots: snaps.length, gigabytes: snaps.reduce((n, s) => n + Number(s.size), 0) });
    }
    const now = nowIso();
    await tx.run("UPDATE volumes SET project_id = ?, user_id = ?, status = 'available', updated_at = ? WHERE id = ?", [to.project_id, to.user_id, now, v.id]);
    for (const s of snaps) await tx.run('UPDATE volume_snapshots SET project_id = ?, user_id = ?, updated_at = ? WHERE id = ?', [to.project_id, to.user_id, now, s.id]);
    await tx.run('UPDATE volume_transfers SET accepted = 1, destination_project_id = ?, deleted = 1, updated_at = ? WHERE id = ?', [to.project_id, now, t.id]);
  });
  return (await sql.get<TransferRow>('SELECT * FROM volume_transfers WHERE id = ?', [id]))!;
}
