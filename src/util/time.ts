/** Timestamps are stored as ISO-8601 strings in UTC with microseconds dropped (sortable as text). */
export const nowIso = (): string => new Date().toISOString();

/** Nova's API renders times without fractional seconds and with a `Z`: 2024-01-01T00:00:00Z. */
export function apiTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  return iso.replace(/\.\d+Z$/, 'Z');
}

/** Glance and Keystone also use the second-resolution Z form; Keystone tokens use microseconds. */
export function keystoneTime(iso: string): string {
  return iso.replace(/(\.\d{3})Z$/, '$1000Z');
}

/**
 * Parses a client-supplied timestamp (ISO 8601, with or without zone; no zone means UTC).
 * Returns null when it cannot be parsed.
 */
export function parseTime(s: string): string | null {
  if (typeof s !== 'string' || !s) return null;
  let t = s.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) t += 'T00:00:00Z';
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) t = t.replace(' ', 'T') + 'Z';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
