/** Small hooks the pages share: loading data with its error, and polling. */
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  /** Loads again (keeps the old data until the new arrives). */
  reload: () => void;
}

/** Runs load() on mount and whenever deps change; the error is the API's message. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setError(errorMessage(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

/** A page's API calls: busy while one runs, the success message or the API's error, then `after` (a reload). */
export interface Action {
  busy: boolean;
  error: string | null;
  message: string | null;
  setError: (e: string | null) => void;
  setMessage: (m: string | null) => void;
  /** Runs what(); on success shows ok and resolves true, on failure shows the error and resolves false. */
  run: (what: () => Promise<unknown>, ok: string) => Promise<boolean>;
}

export function useAction(after: () => void): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const run = async (what: () => Promise<unknown>, ok: string) => {
    setError(null);
    setMessage(null);
    setBusy(true);
    try {
      await what();
      setMessage(ok);
      return true;
    } catch (err) {
      setError(errorMessage(err));
      return false;
    } finally {
      setBusy(false);
      after();
    }
  };
  return { busy, error, message, setError, setMessage, run };
}

/** Calls fn every ms milliseconds (never two at once), from mount until unmount. */
export function useInterval(fn: () => Promise<void> | void, ms: number): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const tick = async () => {
      try {
        await ref.current();
      } finally {
        if (!stopped) timer = window.setTimeout(tick, ms);
      }
    };
    timer = window.setTimeout(tick, ms);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [ms]);
}

/** What a user should read from anything thrown. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
