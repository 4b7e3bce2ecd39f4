/** How a server gets its hostname and display names, as Nova derives them. */
import { randomBytes } from 'node:crypto';

/**
 * Nova's sanitize_hostname: Latin-1 only, at most 63 characters, spaces, '_' and '.' become
 * '-', other non-word characters dropped, lower case, no leading/trailing '-' or '.'. Falls
 * back to defaultName when nothing is left.
 */
export function sanitizeHostname(name: string, defaultName?: string): string {
  let h = [...name].filter((c) => c.charCodeAt(0) <= 0xff).join('');
  h = h.slice(0, 63);
  h = h.replace(/[ _.]/g, '-');
  h = h.replace(/[^\p{L}\p{N}_.-]+/gu, '');
  h = h.toLowerCase();
  h = h.replace(/^[.-]+|[.-]+$/g, '');
  if (h === '' && defaultName !== undefined) return defaultName.slice(0, 63);
  return h;
}

/** Nova's default multi_instance_display_name_template '%(name)s-%(count)d' (count from 1). */
export function displayNameFor(name: string, index: number, count: number): string {
  return count > 1 ? `${name}-${index + 1}` : name;
}

/** A reservation id in Nova's form: 'r-' and 8 lowercase letters or digits. */
export function newReservationId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return 'r-' + [...randomBytes(8)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** A random administrator password as Nova generates one (12 characters, no look-alikes). */
export function newAdminPass(): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return [...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('');
}
