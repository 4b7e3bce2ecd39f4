/** Minimal leveled logger writing one line per event to stderr. Level from NOVA_TS_LOG (default info). */
type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold = order[(process.env.NOVA_TS_LOG as Level) ?? 'info'] ?? 20;

export function setLogLevel(level: Level): void {
  threshold = order[level];
}

export interface Logger {
  debug(msg: string, extra?: unknown): void;
  info(msg: string, extra?: unknown): void;
  warn(msg: string, extra?: unknown): void;
  error(msg: string, extra?: unknown): void;
}

export function logger(name: string): Logger {
  const emit = (level: Level) => (msg: string, extra?: unknown) => {
    if (order[level] < threshold) return;
    const tail = extra === undefined ? '' : ' ' + (extra instanceof Error ? extra.stack : JSON.stringify(extra));
    process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} ${name}: ${msg}${tail}\n`);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
