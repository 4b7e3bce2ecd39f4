/**
 * A throwaway PostgreSQL server for tests: initdb into a temporary directory (as the
 * `postgres` user, since initdb refuses root), listening on 127.0.0.1 on a free port.
 * Installs Debian's postgresql package first when no server binaries are found.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPostgres {
  url: string;
  /** Creates a fresh empty database and returns its URL. */
  createDb(name: string): Promise<string>;
  stop(): Promise<void>;
}

function pgBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).sort().reverse();
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'initdb'))) return join(base, v, 'bin');
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function uidOf(user: string): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Returns null (with the reason) when PostgreSQL cannot be had on this machine. */
export async function startTestPostgres(): Promise<TestPostgres | { skip: string }> {
  let bin = pgBin();
  if (!bin && process.getuid?.() === 0) {
    spawnSync('apt-get', ['install', '-y', '-q', 'postgresql'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    bin = pgBin();
  }
  if (!bin) return { skip: 'PostgreSQL server binaries not found and could not be installed' };
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? uidOf('postgres') : null;
  if (asRoot && !owner) return { skip: 'running as root and there is no postgres user to run the server' };
  const dir = mkdtempSync(join(tmpdir(), 'nova-ts-pg-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  // Run the server binaries as the postgres user directly (no wrapper), so signals reach them.
  const as = owner ? { uid: owner.uid, gid: owner.gid, cwd: dir } : {};
  const runAs = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', ...as });
  const data = join(dir, 'data');
  const init = runAs(join(bin, 'initdb'), ['-D', data, '-U', 'nova', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `initdb failed: ${init.stderr}` };
  }
  const port = await freePort();
  const args = ['-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', dir, '-c', 'fsync=off', '-c', 'max_connections=50'];
  const child: ChildProcess = spawn(join(bin, 'postgres'), args, { stdio: 'ignore', ...as });
  const url = `postgres://nova@127.0.0.1:${port}/postgres`;
  const pg = (await import('pg')).default;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      break;
    } catch (e) {
      await c.end().catch(() => undefined);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        return { skip: `PostgreSQL did not start: ${(e as Error).message}` };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    async createDb(name: string) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`CREATE DATABASE "${name}"`);
      await c.end();
      return `postgres://nova@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, then it exits.
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.kill('SIGINT');
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
