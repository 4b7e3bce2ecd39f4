/**
 * Remote consoles: what a compute host tells about reaching an instance's console, and the
 * token records the console proxy checks. Plain JSON: these cross the bus.
 */

/** The console kinds nova-ts offers: VNC (through the noVNC page) and the serial port. */
export type ConsoleType = 'novnc' | 'serial';

/** What a hypervisor console a driver exposes: VNC (RFB) or the first serial port (raw bytes). */
export type DriverConsoleKind = 'vnc' | 'serial';

export const driverKindOf = (t: ConsoleType): DriverConsoleKind => (t === 'novnc' ? 'vnc' : 'serial');

/**
 * Where the proxy connects for one console: a unix socket (`internal_access_path`, port null)
 * on the compute host's machine, or TCP `host:port`. `host` is always the compute host's
 * name (Nova's os-console-auth-tokens shows it).
 */
export interface ConsoleConnectInfo {
  host: string;
  port: number | null;
  /** Absolute path of a unix socket on the compute host's machine; null for TCP. */
  internal_access_path: string | null;
  /** TCP address to dial when port is set (defaults to 127.0.0.1). */
  address?: string;
}

/** A console token as stored (the token itself is never stored; only its sha256). */
export interface ConsoleTokenRecord extends ConsoleConnectInfo {
  id: string;
  console_type: ConsoleType;
  instance_uuid: string;
  /** The proxy base URL the token was issued for, e.g. http://127.0.0.1:6080 */
  access_url_base: string;
  /** Epoch seconds. */
  expires_at: number;
  created_at: string;
}

/** Why the proxy refuses a token: the reason is told to the user. */
export type TokenRefusal = 'missing' | 'unknown' | 'expired' | 'other-instance';

export const REFUSAL_MESSAGES: Record<TokenRefusal, string> = {
  missing: 'No console token was given: ask for a console URL again (openstack console url show).',
  unknown: 'The console token is not valid: it was never issued, was mistyped, or its instance was deleted. Ask for a new console URL.',
  expired: 'The console token has expired: ask for a new console URL (openstack console url show).',
  'other-instance': 'The console token was issued for another instance: ask for a console URL of this instance.',
};
