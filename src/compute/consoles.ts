/**
 * The compute host's side of remote consoles: get_console_connect_info (compute RPC 1.5) says
 * where the console proxy reaches an instance's VNC server or first serial port on this host.
 * Read-only and idempotent: it issues nothing (the API issues the token) and changes no state.
 * Fails with Conflict when the instance is recorded on another host, with NotImplemented when
 * the driver offers no remote consoles, and otherwise as the driver does (NotFound: no such
 * guest here; Conflict: guest not running or started without that console; Invalid: no such
 * console).
 */
import { conflict, invalid, notImplemented } from '../errors.js';
import { driverKindOf, type ConsoleConnectInfo, type ConsoleType } from '../console/types.js';
import type { ComputeDriver, InstancePayload } from '../virt/driver.js';

const CONSOLE_TYPES: readonly ConsoleType[] = ['novnc', 'serial'];

export async function getConsoleConnectInfo(
  d: { host: string; driver: ComputeDriver },
  a: { instance: InstancePayload; console_type?: unknown },
): Promise<ConsoleConnectInfo> {
  const type = a.console_type;
  if (typeof type !== 'string' || !CONSOLE_TYPES.includes(type as ConsoleType)) throw invalid(`Invalid console type ${String(type)}`);
  const uuid = a.instance.uuid;
  if (a.instance.host && a.instance.host !== d.host)
    throw conflict(`Instance ${uuid} is not on compute host ${d.host} (it is on ${a.instance.host}): ask for its console again.`);
  if (!d.driver.getConsole) throw notImplemented(`Remote consoles are not supported by the ${d.driver.name} driver of compute host ${d.host}.`);
  const info = await d.driver.getConsole(uuid, driverKindOf(type as ConsoleType));
  // The record names the compute host (os-console-auth-tokens shows it), whatever the driver said.
  return { ...info, host: d.host };
}
