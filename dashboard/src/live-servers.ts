/**
 * The project's servers kept current without reloading: one full list, then every POLL_MS a
 * `changes-since` list that returns only the servers changed since the last answer (deleted
 * ones come back with status DELETED and are dropped). The window starts SLACK_MS before the
 * server's clock at the previous answer (its Date header, whole seconds), so a change committed
 * with a slightly earlier timestamp is not missed; the few servers seen twice are harmless.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { listServersWithDate, type Server } from './api/compute';
import { errorMessage } from './hooks';

/** 750 ms keeps a status change under 1 s to show (the aim); an empty changes-since poll costs a few ms. */
export const POLL_MS = 750;
const SLACK_MS = 3000;

export interface LiveServers {
  /** By id; a new Map after every change (cheap to compare). */
  servers: Map<string, Server>;
  loading: boolean;
  error: string | null;
  /** Polls now (after an action), instead of waiting for the next tick. */
  refresh: () => void;
  /** Applies a local change at once (e.g. a server deleted by this page). */
  drop: (id: string) => void;
}

export function useLiveServers(computeUrl: string, opts: { allTenants?: boolean } = {}): LiveServers {
  const [servers, setServers] = useState<Map<string, Server>>(new Map());
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const since = useRef<number | null>(null);
  const kick = useRef<() => void>(() => {});
  const allTenants = !!opts.allTenants;

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    let running = false;
    let again = false;
    since.current = null;
    const poll = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      window.clearTimeout(timer);
      try {
        const full = since.current === null;
        const t0 = Date.now();
        const { servers: got, serverTime } = await listServersWithDate(computeUrl, {
          allTenants,
          changesSince: full ? undefined : new Date(since.current! - SLACK_MS).toISOString(),
        });
        if (stopped) return;
        since.current = serverTime ?? t0;
        setServers((old) => {
          if (full) return new Map(got.filter((s) => s.status !== 'DELETED').map((s) => [s.id, s]));
          if (got.length === 0) return old;
          let changed = false;
          const next = new Map(old);
          for (const s of got) {
            if (s.status === 'DELETED') changed = next.delete(s.id) || changed;
            else if (old.get(s.id)?.updated !== s.updated || JSON.stringify(old.get(s.id)) !== JSON.stringify(s)) {
              next.set(s.id, s);
              changed = true;
            }
          }
          return changed ? next : old;
        });
        setError(null);
      } catch (e) {
        if (!stopped) setError(errorMessage(e));
      } finally {
        running = false;
        setLoading(false);
        if (!stopped) timer = window.setTimeout(() => void poll(), again ? 0 : POLL_MS);
        again = false;
      }
    };
    kick.current = () => void poll();
    void poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [computeUrl, allTenants]);

  const refresh = useCallback(() => kick.current(), []);
  const drop = useCallback((id: string) => {
    setServers((old) => {
      if (!old.has(id)) return old;
      const next = new Map(old);
      next.delete(id);
      return next;
    });
  }, []);
  return { servers, loading, error, refresh, drop };
}
