import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { conflict } from '../errors.js';
import type { DriverConsoleKind } from '../console/types.js';
import type { ComputeDriver, InstancePayload } from '../virt/driver.js';
import { getConsoleConnectInfo } from './consoles.js';

const instance = (over: Partial<InstancePayload> = {}) => ({ uuid: 'u-1', host: 'host1', ...over }) as InstancePayload;

function driver(getConsole?: (uuid: string, kind: DriverConsoleKind) => Promise<any>): ComputeDriver & { asked: [string, DriverConsoleKind][] } {
  const asked: [string, DriverConsoleKind][] = [];
  const d = { name: 'stub', asked } as unknown as ComputeDriver & { asked: typeof asked };
  if (getConsole) d.getConsole = (uuid, kind) => (asked.push([uuid, kind]), getConsole(uuid, kind));
  return d;
}

describe('get_console_connect_info (compute host)', () => {
  it('asks the driver for vnc (novnc) or serial and names this host', async () => {
    const d = driver(async (_u, kind) => ({ host: 'whatever', port: null, internal_access_path: `/run/${kind}.sock` }));
    assert.deepEqual(await getConsoleConnectInfo({ host: 'host1', driver: d }, { instance: instance(), console_type: 'novnc' }), {
      host: 'host1', port: null, internal_access_path: '/run/vnc.sock',
    });
    const serial = await getConsoleConnectInfo({ host: 'host1', driver: d }, { instance: instance(), console_type: 'serial' });
    assert.equal(serial.internal_access_path, '/run/serial.sock');
    assert.deepEqual(d.asked, [['u-1', 'vnc'], ['u-1', 'serial']]);
  });

  it('refuses unknown types, instances of another host, and drivers without consoles', async () => {
    const d = driver(async () => ({ host: 'host1', port: 5900, internal_access_path: null }));
    await assert.rejects(getConsoleConnectInfo({ host: 'host1', driver: d }, { instance: instance(), console_type: 'spice-html5' }), /^Invalid: Invalid console type spice-html5$/);
    await assert.rejects(getConsoleConnectInfo({ host: 'host1', driver: d }, { instance: instance() }), /Invalid console type undefined/);
    await assert.rejects(
      getConsoleConnectInfo({ host: 'host1', driver: d }, { instance: instance({ host: 'host2' }), console_type: 'novnc' }),
      (e: any) => e.kind === 'Conflict' && /not on compute host host1 \(it is on host2\)/.test(e.message),
    );
    assert.equal(d.asked.length, 0);
    await assert.rejects(
      getConsoleConnectInfo({ host: 'host1', driver: driver() }, { instance: instance(), console_type: 'novnc' }),
      (e: any) => e.kind === 'NotImplemented' && /not supported by the stub driver/.test(e.message),
    );
  });

  it("passes the driver's errors through", async () => {
    const d = driver(async () => {
      throw conflict('Instance u-1 is not running.');
    });
    await assert.rejects(getConsoleConnectInfo({ host: 'host1', driver: d }, { instance: instance(), console_type: 'serial' }), /^Conflict: Instance u-1 is not running\.$/);
  });
});
