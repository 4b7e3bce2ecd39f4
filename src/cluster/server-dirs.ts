/**
 * Where the cluster keeps the data of a server that runs as a system user of its own (PostgreSQL
 * as `postgres`, RabbitMQ as `rabbitmq`, when we are root): `DIR/<name>` when that user can reach
 * DIR, else (DIR under a private home such as /root) `/var/lib/nova-ts-cluster/<hash of DIR>/<name>`
 * with `DIR/<name>` a symbolic link to it, so the data stays findable from DIR and is reused on the
 * next start. Idempotent.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** True when `user` may search `dir` (and so every parent of it). Unknown users count as able (nothing runs as them). */
export function userCanReach(user: string, dir: string): boolean {
  if (process.getuid?.() !== 0) return true;
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return true;
  return spawnSync('test', ['-x', dir], { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }).status === 0;
}

export function serverDir(dir: string, name: string, user: string, fallbackBase = '/var/lib/nova-ts-cluster'): string {
  const own = join(dir, name);
  if (isLink(own)) {
    const target = readlinkSync(own);
    mkdirSync(target, { recursive: true, mode: 0o755 });
    return target;
  }
  if (existsSync(own) || userCanReach(user, dir)) return own;
  const target = join(fallbackBase, createHash('sha256').update(dir).digest('hex').slice(0, 12), name);
  mkdirSync(target, { recursive: true, mode: 0o755 });
  symlinkSync(target, own);
  return target;
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
