/**
 * A private PostgreSQL server from Debian's package (the `postgresql` server binaries under
 * /usr/lib/postgresql/<version>/bin), run as a child process in a directory of ours and
 * reachable only over TCP on 127.0.0.1 (no unix socket). Used by `npm run cluster` and by the
 * tests of the PostgreSQL store.
 *
 * Layout of `dir`: `data/` (the cluster, made by initdb on first start and reused after, owned by
 * the `postgres` user when we are root since PostgreSQL refuses to run as root) and `password`
 * (mode 0600, ours: the password of the database superuser `nova`; password authentication,
 * scram-sha-256, so other local users cannot connect without it).
 *
 * Contract: startPostgres resolves once the server accepts connections, or rejects with what
 * went wrong (initdb's or the server's own output) and leaves no process behind. stop() is
 * PostgreSQL's fast shutdown (SIGINT: clients are disconnected), SIGKILL after 15 s; it resolves
 * when the process has exited and is idempotent. restart() stops and starts again on the same
 * port and data (for tests of database outages).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freeLocalPort } from './ports.js';

export interface PostgresOptions {
  /** Directory of ours for the server's data and password (created when missing). */
  dir: string;
  /** TCP port on 127.0.0.1 (default: a free one). */
  port?: number;
  /** Append the server's output to this file (default: discarded). */
  logFile?: string;
  /** More server settings, e.g. { fsync: 'off', max_connections: '50' }. */
  settings?: Record<string, string>;
}

export interface PrivatePostgres {
  /** Superuser URL of the `postgres` maintenance database: postgres://nova:PASSWORD@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** PID of the postmaster (changes on restart). */
  pid(): number;
  /** URL of database `name` (created when missing; idempotent). */
  ensureDb(name: string): Promise<string>;
  /** Fast shutdown; idempotent. */
  stop(): Promise<void>;
  /** Stops and starts again on the same port and data. */
  restart(): Promise<void>;
}

/** The newest installed server's bin directory, or null when Debian's postgresql is not installed. */
export function postgresBinDir(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'initdb'))) return join(base, v, 'bin');
  return null;
}

/** uid/gid of a local user, or null when there is none. */
function userIds(user: string): { uid: number; gid: number } | null {
  const u = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (u.status !== 0 || g.status !== 0) return null;
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Starts (initialising on first use) a private PostgreSQL server in opts.dir. */
export async function startPostgres(opts: PostgresOptions): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: install the Debian package postgresql');
  const dir = resolve(opts.dir);
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? userIds('postgres') : null;
  if (asRoot && !owner) throw new Error('running as root and there is no postgres user to run PostgreSQL as (it refuses to run as root)');
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {};
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (owner) {
    // The postgres user must be able to reach its data directory through every parent.
    const probe = spawnSync('test', ['-x', dir], as);
    if (probe.status !== 0) throw new Error(`the postgres user cannot reach ${dir} (a parent directory is not searchable by others, e.g. made by mkdtemp): chmod o+x it or use another directory`);
  }
  const passwordFile = join(dir, 'password');
  if (!existsSync(join(data, 'PG_VERSION'))) {
    rmSync(data, { recursive: true, force: true });
    mkdirSync(data, { mode: 0o700 });
    if (owner) chownSync(data, owner.uid, owner.gid);
    const password = randomBytes(18).toString('base64url');
    writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
    // initdb reads the password from a file: a short-lived one (0600, the server user's) beside data/.
    const pwfile = join(dir, 'initdb-password');
    writeFileSync(pwfile, password + '\n', { mode: 0o600 });
    if (owner) chownSync(pwfile, owner.uid, owner.gid);
    const init = spawnSync(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'nova', `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=scram-sha-256', '-E', 'UTF8', '--no-sync'],
      { encoding: 'utf8', cwd: '/', ...as },
    );
    rmSync(pwfile, { force: true });
    if (init.status !== 0) {
      rmSync(data, { recursive: true, force: true });
      throw new Error(`initdb failed: ${init.stderr || init.stdout || init.error?.message}`);
    }
  }
  if (!existsSync(passwordFile)) throw new Error(`${passwordFile} is missing: the password of the existing database in ${data} is unknown (remove ${dir} to start afresh)`);
  const password = readFileSync(passwordFile, 'utf8').trim();
  const port = opts.port ?? (await freeLocalPort());
  const settings = { listen_addresses: '127.0.0.1', port: String(port), unix_socket_directories: '', ...(opts.settings ?? {}) };
  const args = ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const base = `postgres://nova:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const url = `${base}/postgres`;
  const pg = (await import('pg')).default;

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const launch = async () => {
    const out = opts.logFile ? openSync(opts.logFile, 'a') : 'ignore';
    // The server binary itself (no wrapper), so our signals reach it.
    const c = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', out, out], cwd: '/', ...as });
    if (typeof out === 'number') closeSync(out);
    child = c;
    let gone = false;
    exited = new Promise<void>((r) => c.once('exit', () => ((gone = true), r())));
    c.once('error', () => undefined);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const client = new pg.Client({ connectionString: url });
      try {
        await client.connect();
        await client.end();
        return;
      } catch (e) {
        await client.end().catch(() => undefined);
        if (gone || Date.now() > deadline) {
          c.kill('SIGKILL');
          await exited;
          const why = gone ? `exited (code ${c.exitCode})` : 'did not accept connections within 30 s';
          throw new Error(`PostgreSQL ${why}: ${(e as Error).message}${opts.logFile ? ` (see ${opts.logFile})` : ''}`, { cause: e });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const halt = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    c.kill('SIGINT');
    await exited;
    clearTimeout(t);
  };
  await launch();
  return {
    url,
    port,
    pid: () => child?.pid ?? 0,
    async ensureDb(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name} wants lower case letters, digits and _`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (r.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `${base}/${name}`;
    },
    stop: halt,
    async restart() {
      await halt();
      await launch();
    },
  };
}
