/**
 * The typed query layer: one small interface with a SQLite and a PostgreSQL adapter.
 * SQL is written once with `?` placeholders and portable types (TEXT, INTEGER, BIGINT, REAL);
 * adapters translate placeholders. Booleans are stored as INTEGER 0/1, JSON as TEXT.
 */
export type SqlValue = string | number | bigint | null | Buffer;
export type Dialect = 'sqlite' | 'postgres';

export interface RunResult {
  changes: number;
}

export interface Sql {
  readonly dialect: Dialect;
  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
  /**
   * Runs fn inside one transaction: committed when fn resolves, rolled back when it throws.
   * Nested calls join the outer transaction. Other callers never observe partial writes.
   */
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations only). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

/** Builds `(?, ?, ?)` for an IN list; an empty list yields `(NULL)`, which matches nothing. */
export function inList(n: number): string {
  return n === 0 ? '(NULL)' : `(${new Array(n).fill('?').join(', ')})`;
}

export const bool = (b: boolean | undefined | null): number => (b ? 1 : 0);

/** Parses a JSON TEXT column, answering fallback for NULL. */
export function json<T>(text: unknown, fallback: T): T {
  if (typeof text !== 'string' || text === '') return fallback;
  return JSON.parse(text) as T;
}

/** Escapes a value for use inside a LIKE pattern with ESCAPE '\'. */
export function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}
