/**
 * A throwaway PostgreSQL server for tests: the product's private server (src/cluster/postgres.ts:
 * Debian's binaries, run as the `postgres` user when we are root, TCP on 127.0.0.1 only, a free
 * port) in a temporary directory that stop() removes. Installs Debian's postgresql package first
 * (as root) when no server binaries are found; otherwise the caller skips with the reason.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { postgresBinDir, startPostgres } from '../../src/cluster/postgres.js';

export interface TestPostgres {
  /** Superuser URL of the maintenance database. */
  url: string;
  /** Creates a fresh empty database and returns its URL. */
  createDb(name: string): Promise<string>;
  /** Stops and starts the server again on the same port and data (database outages). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Returns {skip} (with the reason) when PostgreSQL cannot be had on this machine. */
export async function startTestPostgres(): Promise<TestPostgres | { skip: string }> {
  if (!postgresBinDir() && process.getuid?.() === 0)
    spawnSync('apt-get', ['install', '-y', '-q', 'postgresql'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (!postgresBinDir()) return { skip: 'PostgreSQL server binaries not found and could not be installed' };
  const dir = mkdtempSync(join(tmpdir(), 'nova-ts-pg-'));
  // mkdtemp makes it 0700; the postgres user must get through it to its data directory.
  chmodSync(dir, 0o711);
  try {
    const pg = await startPostgres({ dir, settings: { fsync: 'off', max_connections: '50' } });
    return {
      url: pg.url,
      createDb: (name) => pg.ensureDb(name),
      restart: () => pg.restart(),
      async stop() {
        await pg.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: (e as Error).message };
  }
}
