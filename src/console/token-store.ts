/**
 * Console tokens (Nova's consoleauth): issued by the Compute API for one instance and one
 * console, checked by the console proxy, stored only as a sha256 hash, valid until they expire
 * (reusable until then, also across proxy restarts: they live in the DB).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Sql } from '../db/sql.js';
import type { ConsoleConnectInfo, ConsoleTokenRecord, ConsoleType, TokenRefusal } from './types.js';

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

const COLUMNS = 'id, console_type, host, port, internal_access_path, instance_uuid, access_url_base, expires_at, created_at';

interface Row {
  id: string;
  console_type: string;
  host: string;
  port: number | null;
  internal_access_path: string | null;
  instance_uuid: string;
  access_url_base: string;
  expires_at: number | string | bigint;
  created_at: string;
}

function record(r: Row): ConsoleTokenRecord {
  return {
    id: r.id,
    console_type: r.console_type as ConsoleType,
    host: r.host,
    port: r.port === null ? null : Number(r.port),
    internal_access_path: r.internal_access_path,
    instance_uuid: r.instance_uuid,
    access_url_base: r.access_url_base,
    expires_at: Number(r.expires_at),
    created_at: r.created_at,
  };
}

const nowSec = () => Math.floor(Date.now() / 1000);

export class ConsoleTokenStore {
  /** `clock` returns epoch seconds (tests move it). */
  constructor(
    private readonly sql: Sql,
    private readonly clock: () => number = nowSec,
  ) {}

  /** Issues a token (128 random bits, base64url) valid for ttlSec; returns it with its record. */
  async issue(args: {
    instance_uuid: string;
    console_type: ConsoleType;
    connect: ConsoleConnectInfo;
    access_url_base: string;
    ttlSec: number;
  }): Promise<{ token: string; record: ConsoleTokenRecord }> {
    const token = randomBytes(16).toString('base64url');
    const rec: ConsoleTokenRecord = {
      id: randomUUID(),
      console_type: args.console_type,
      host: args.connect.host,
      port: args.connect.port,
      internal_access_path: args.connect.internal_access_path,
      instance_uuid: args.instance_uuid,
      access_url_base: args.access_url_base,
      expires_at: this.clock() + args.ttlSec,
      created_at: new Date().toISOString(),
    };
    await this.sql.run(
      `INSERT INTO console_auth_tokens (id, token_hash, console_type, host, port, internal_access_path, instance_uuid, access_url_base, expires_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [rec.id, hashToken(token), rec.console_type, rec.host, rec.port, rec.internal_access_path, rec.instance_uuid, rec.access_url_base, rec.expires_at, rec.created_at],
    );
    return { token, record: rec };
  }

  /**
   * Checks a token as the proxy does. With instanceUuid (the instance the URL names), a token of
   * another instance is refused. Expired tokens are refused as expired (until swept).
   */
  async check(token: string | null | undefined, instanceUuid?: string | null): Promise<{ ok: true; record: ConsoleTokenRecord } | { ok: false; reason: TokenRefusal }> {
    if (!token) return { ok: false, reason: 'missing' };
    const row = await this.sql.get<Row>(`SELECT ${COLUMNS} FROM console_auth_tokens WHERE token_hash = ?`, [hashToken(token)]);
    if (!row) return { ok: false, reason: 'unknown' };
    const rec = record(row);
    if (rec.expires_at <= this.clock()) return { ok: false, reason: 'expired' };
    if (instanceUuid && instanceUuid !== rec.instance_uuid) return { ok: false, reason: 'other-instance' };
    return { ok: true, record: rec };
  }

  /** The live (unexpired) record of a token, or undefined. */
  async find(token: string): Promise<ConsoleTokenRecord | undefined> {
    const r = await this.check(token);
    return r.ok ? r.record : undefined;
  }

  /** Unexpired tokens, newest first, optionally of one instance (admins list them; tokens themselves are not known). */
  async list(filter: { instance_uuid?: string } = {}): Promise<ConsoleTokenRecord[]> {
    const params: (string | number)[] = [this.clock()];
    let where = 'expires_at > ?';
    if (filter.instance_uuid) {
      where += ' AND instance_uuid = ?';
      params.push(filter.instance_uuid);
    }
    const rows = await this.sql.all<Row>(`SELECT ${COLUMNS} FROM console_auth_tokens WHERE ${where} ORDER BY created_at DESC, id`, params);
    return rows.map(record);
  }

  /** Revokes one token; true when it existed. */
  async revoke(token: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM console_auth_tokens WHERE token_hash = ?', [hashToken(token)])).changes > 0;
  }

  /** Revokes every token of an instance (deleted, moved to another host, shelved offloaded). */
  async revokeInstance(instanceUuid: string): Promise<number> {
    return (await this.sql.run('DELETE FROM console_auth_tokens WHERE instance_uuid = ?', [instanceUuid])).changes;
  }

  /** Deletes expired rows; returns how many. */
  async sweep(): Promise<number> {
    return (await this.sql.run('DELETE FROM console_auth_tokens WHERE expires_at <= ?', [this.clock()])).changes;
  }
}
