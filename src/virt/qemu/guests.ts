/**
 * The guests of one host as directories `<root>/<host>/<uuid>/` and their QEMU processes:
 * definitions, the one QMP connection per running guest, starting, ACPI shutdown, saving and
 * restoring memory, removal. The driver (driver.ts) builds its operations from these.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { notFound } from '../../errors.js';
import { prepareConsoleSockets, removeConsoleSockets } from './consoles.js';
import { exists } from './disks.js';
import { guestFiles, kill, launch, livePid, qemuArgs, waitExit, type GuestDefinition } from './process.js';
import { QmpClient } from './qmp.js';

/** Unix socket paths are limited to 107 bytes. */
const MAX_SOCKET_PATH = 107;
const LOGGED_EVENTS = new Set(['SHUTDOWN', 'RESET', 'STOP', 'RESUME', 'GUEST_PANICKED']);

export class Guests {
  private readonly clients = new Map<string, Promise<QmpClient>>();
  host = '';
  /** The host's network namespace QEMU runs in (where the guests' taps are); null: no networking. */
  netns: string | null = null;

  constructor(
    private readonly root: string,
    private readonly binary: string,
    private readonly log: (msg: string) => void,
  ) {}

  hostDir(): string {
    return join(this.root, this.host);
  }
  dir(uuid: string): string {
    return join(this.hostDir(), uuid);
  }
  files(uuid: string) {
    return guestFiles(this.dir(uuid));
  }
  pid(uuid: string): Promise<number | null> {
    return livePid(this.dir(uuid), uuid);
  }

  /** uuids of every defined guest (running or not). */
  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const name of await readdir(this.hostDir()).catch(() => [] as string[])) if (await exists(this.files(name).definition)) out.push(name);
    return out;
  }

  /** NotFound (with the message the compute manager expects) unless the guest is defined. */
  async known(uuid: string): Promise<void> {
    if (!(await exists(this.files(uuid).definition))) throw notFound(`Instance ${uuid} could not be found.`);
  }

  async definition(uuid: string): Promise<GuestDefinition> {
    await this.known(uuid);
    return JSON.parse(await readFile(this.files(uuid).definition, 'utf8')) as GuestDefinition;
  }

  async saveDefinition(def: GuestDefinition): Promise<void> {
    const file = this.files(def.uuid).definition;
    await writeFile(`${file}.tmp`, JSON.stringify(def, null, 2));
    await rename(`${file}.tmp`, file);
  }

  /**
   * Finds the guests that survived a restart: removes directories of spawns interrupted before
   * their definition was written (no process can exist for those) and half-saved memory states,
   * and reconnects to every running QEMU. Returns the number running.
   */
  async adopt(): Promise<number> {
    await mkdir(this.hostDir(), { recursive: true });
    let running = 0;
    for (const uuid of await readdir(this.hostDir())) {
      const f = this.files(uuid);
      if (!(await exists(f.definition))) {
        await rm(this.dir(uuid), { recursive: true, force: true });
        continue;
      }
      await rm(`${f.state}.part`, { force: true });
      if (await this.pid(uuid)) {
        running++;
        await this.qmp(uuid).catch((e) => this.log(`guest ${uuid} runs but its QMP socket does not answer: ${(e as Error).message}`));
      }
    }
    return running;
  }

  /** One QMP connection per running guest, opened on first use and kept for its events. */
  qmp(uuid: string): Promise<QmpClient> {
    let p = this.clients.get(uuid);
    if (!p) {
      const made: Promise<QmpClient> = QmpClient.connect(this.files(uuid).qmp).then((c) => {
        c.on('close', () => {
          if (this.clients.get(uuid) === made) this.clients.delete(uuid);
        });
        c.on('event', (e) => LOGGED_EVENTS.has(e.event) && this.log(`guest ${uuid}: ${e.event}`));
        return c;
      });
      made.catch(() => this.clients.delete(uuid));
      this.clients.set(uuid, made);
      p = made;
    }
    return p;
  }

  /** QEMU's run state (running, paused, shutdown, inmigrate, ...). */
  async status(uuid: string): Promise<string> {
    return (await (await this.qmp(uuid)).execute<{ status: string }>('query-status')).status;
  }

  dropClient(uuid: string): void {
    const p = this.clients.get(uuid);
    this.clients.delete(uuid);
    p?.then((c) => c.close()).catch(() => undefined);
  }

  closeAll(): void {
    for (const uuid of [...this.clients.keys()]) this.dropClient(uuid);
  }

  /**
   * Starts the guest's QEMU (restoring memory from `incoming`) and opens its QMP connection. A
   * fresh start always gives the guest its consoles (recorded in guest.json); a restore keeps
   * the devices the memory was saved with.
   */
  async start(def: GuestDefinition, incoming?: string): Promise<void> {
    const f = this.files(def.uuid);
    if (!incoming && !def.consoles) {
      def = { ...def, consoles: true };
      await this.saveDefinition(def);
    }
    if (def.consoles) await prepareConsoleSockets(this.dir(def.uuid));
    if (Buffer.byteLength(f.qmp) > MAX_SOCKET_PATH)
      throw new Error(`The QMP socket path ${f.qmp} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter --data-dir.`);
    // Without the namespace QEMU would create the taps on the machine's own network.
    if (def.nics?.length && !this.netns)
      throw new Error(`Instance ${def.uuid} has network interfaces, but the qemu driver runs without networking (no network namespace).`);
    this.dropClient(def.uuid);
    await rm(f.pid, { force: true });
    await launch(this.binary, qemuArgs(def, this.dir(def.uuid), incoming), this.netns);
    await this.qmp(def.uuid);
  }

  /** Terminates the guest's QEMU at once, if it runs. */
  async kill(uuid: string): Promise<void> {
    this.dropClient(uuid);
    const pid = await this.pid(uuid);
    if (pid) await kill(pid, uuid);
  }

  /** Kills the guest's QEMU (if any) and removes its directory. */
  async remove(uuid: string): Promise<void> {
    await this.kill(uuid);
    await removeConsoleSockets(this.dir(uuid));
    await rm(this.dir(uuid), { recursive: true, force: true });
  }

  /**
   * Asks a running guest to power off with the ACPI power button (again every 5 s, as a guest
   * early in its boot may miss it) and waits up to timeoutSec; then, or at once for a paused
   * guest, terminates QEMU. Returns whether the guest shut down by itself.
   */
  async shutdown(uuid: string, timeoutSec: number): Promise<boolean> {
    const pid = await this.pid(uuid);
    if (!pid) return true;
    let graceful = false;
    try {
      const c = await this.qmp(uuid);
      if ((await this.status(uuid)) === 'running') {
        const until = Date.now() + timeoutSec * 1000;
        while (!graceful && Date.now() < until) {
          await c.execute('system_powerdown').catch(() => undefined);
          graceful = await waitExit(pid, uuid, Math.min(5000, Math.max(0, until - Date.now())));
        }
      }
    } catch {
      graceful = await waitExit(pid, uuid, 0);
    }
    if (!graceful) {
      this.log(`guest ${uuid} did not power off within ${timeoutSec} s: terminating it`);
      await kill(pid, uuid);
    }
    this.dropClient(uuid);
    return graceful;
  }

  /**
   * Saves the guest's memory to memory.state (a QEMU migration into a file, as libvirt's
   * managed save) and ends its process. On failure the guest is left as it was.
   */
  async saveMemory(uuid: string): Promise<void> {
    const state = this.files(uuid).state;
    const part = `${state}.part`;
    const c = await this.qmp(uuid);
    const before = await this.status(uuid);
    await c.execute('stop');
    try {
      await c.execute('migrate', { uri: `exec:cat > '${part.replace(/'/g, `'\\''`)}'` });
      await waitMigration(c, 600_000);
      await rename(part, state);
    } catch (e) {
      await rm(part, { force: true });
      if (before === 'running') await c.execute('cont').catch(() => undefined);
      throw new Error(`Saving the memory of instance ${uuid} failed: ${(e as Error).message}`, { cause: e });
    }
    const pid = await this.pid(uuid);
    await c.execute('quit').catch(() => undefined);
    this.dropClient(uuid);
    if (pid && !(await waitExit(pid, uuid, 10_000))) await kill(pid, uuid);
  }

  /** Starts QEMU from the saved memory state, runs the guest and deletes the state. */
  async restore(def: GuestDefinition): Promise<void> {
    const state = this.files(def.uuid).state;
    await this.start(def, state);
    const c = await this.qmp(def.uuid);
    const until = Date.now() + 600_000;
    for (;;) {
      const status = await this.status(def.uuid);
      if (status === 'paused' || status === 'running' || status === 'postmigrate') break;
      if (status !== 'inmigrate' && status !== 'prelaunch') throw new Error(`Restoring instance ${def.uuid} failed: QEMU is ${status}.`);
      if (Date.now() > until) throw new Error(`Restoring instance ${def.uuid} took longer than 10 minutes.`);
      await sleep(50);
    }
    await c.execute('cont').catch(() => undefined);
    await rm(state, { force: true });
  }
}

/** Polls query-migrate until the migration completes; rejects when it fails or takes too long. */
async function waitMigration(c: QmpClient, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await c.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
    if (m.status === 'completed') return;
    if (m.status === 'failed' || m.status === 'cancelled') throw new Error(m['error-desc'] ?? `migration ${m.status}`);
    if (Date.now() > until) throw new Error('saving the memory took too long');
    await sleep(50);
  }
}
