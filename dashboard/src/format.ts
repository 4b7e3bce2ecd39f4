/** How values read on the pages (Horizon's wording). */
import { POWER_STATES, type Server } from './api/compute';

/** "ACTIVE" -> "Active", "SHUTOFF" -> "Shutoff", "spawning" -> "Spawning", "image_uploading" -> "Image Uploading". */
export function titleCase(s: string | null | undefined): string {
  if (!s) return 'None';
  return s
    .toLowerCase()
    .split(/[_\s]+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

export function powerState(s: Server): string {
  const p = s['OS-EXT-STS:power_state'];
  return p === undefined ? '' : (POWER_STATES[p] ?? String(p));
}

/** Every address of a server, fixed first then floating. */
export function addresses(s: Server): string[] {
  const all = Object.values(s.addresses ?? {}).flat();
  return [...all.filter((a) => a['OS-EXT-IPS:type'] !== 'floating'), ...all.filter((a) => a['OS-EXT-IPS:type'] === 'floating')].map((a) => a.addr);
}

/** "3 minutes", "2 hours, 5 minutes", "just now": how long ago iso was, from now. */
export function age(iso: string, now = Date.now()): string {
  const secs = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (secs < 60) return secs < 5 ? 'just now' : `${secs} seconds`;
  const units: [number, string][] = [
    [86400 * 365, 'year'],
    [86400 * 30, 'month'],
    [86400 * 7, 'week'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  const parts: string[] = [];
  let rest = secs;
  for (const [n, name] of units) {
    const k = Math.floor(rest / n);
    if (k > 0) {
      parts.push(`${k} ${name}${k === 1 ? '' : 's'}`);
      rest -= k * n;
    }
    if (parts.length === 2) break;
  }
  return parts.join(', ');
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)} ${u[i]}`;
}
