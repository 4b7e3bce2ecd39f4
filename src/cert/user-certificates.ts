/**
 * User certificates (nova-cert's generate_x509_cert): issued by the data dir's CA and recorded
 * in the `certificates` table (serial, subject, expiry; never the private key).
 */
import type { Sql } from '../db/sql.js';
import { uuid } from '../util/ids.js';
import { nowIso } from '../util/time.js';
import type { CertificateAuthority, IssuedCertificate } from './ca.js';

export interface CertificateRecord {
  id: string;
  user_id: string;
  project_id: string;
  serial: string;
  subject: string;
  not_after: string;
  created_at: string;
}

/**
 * Issues a key and certificate for the user in the project and records it. Resolves only once
 * the record is written; when recording fails the certificate is not handed out.
 */
export async function issueUserCertificate(sql: Sql, ca: CertificateAuthority, who: { projectId: string; userId: string }): Promise<IssuedCertificate> {
  const issued = await ca.issueUser(who);
  await sql.run('INSERT INTO certificates (id, user_id, project_id, serial, subject, not_after, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    uuid(),
    who.userId,
    who.projectId,
    issued.serial,
    issued.subject,
    issued.notAfter,
    nowIso(),
  ]);
  return issued;
}

/** The certificates issued to a user in a project, oldest first. */
export function listUserCertificates(sql: Sql, who: { projectId: string; userId: string }): Promise<CertificateRecord[]> {
  return sql.all<CertificateRecord>('SELECT * FROM certificates WHERE user_id = ? AND project_id = ? ORDER BY created_at, id', [who.userId, who.projectId]);
}
