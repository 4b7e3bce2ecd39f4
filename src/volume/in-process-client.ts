/**
 * The VolumeClient of the all-in-one: service-level calls straight on the DB (the caller has
 * already checked who may act on the volume), through the same operations and attachment
 * state machine as the REST API.
 */
import { invalid, timeout } from '../errors.js';
import type { VolumeClient } from './client.js';
import * as att from './attachments.js';
import { getVolume } from './repo.js';
import type { VolumeRow } from './types.js';
import { createSnapshot, createVolume, deleteSnapshot, deleteVolume, type VolumeOpsDeps } from './volume-ops.js';

const FAILED = ['error', 'error_deleting', 'error_extending', 'error_restoring'];

export function inProcessVolumeClient(deps: VolumeOpsDeps): VolumeClient {
  const { sql } = deps;
  return {
    get: (id) => getVolume(sql, id),
    create: (req) => createVolume(deps, req),
    async waitAvailable(id, timeoutMs = 300_000): Promise<VolumeRow> {
      const end = Date.now() + timeoutMs;
      let delay = 20;
      for (;;) {
        const v = await getVolume(sql, id);
        if (v.status === 'available') return v;
        if (FAILED.includes(v.status)) throw invalid(`Volume ${id} is in status ${v.status}: ${v.error ?? 'the volume service gave no reason'}`);
        if (Date.now() > end) throw timeout(`Volume ${id} did not become available within ${Math.round(timeoutMs / 1000)} s (status ${v.status}).`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 500);
      }
    },
    delete: (id) => deleteVolume(deps, id),
    createAttachment: (a) => att.createAttachment(sql, a),
    updateAttachment: (a) => att.updateAttachment(sql, a),
    completeAttachment: (id) => att.completeAttachment(sql, id),
    async deleteAttachment(id) {
      await att.deleteAttachment(sql, id);
    },
    beginDetaching: (id) => att.beginDetaching(sql, id),
    rollDetaching: (id) => att.rollDetaching(sql, id),
    attachmentsOf: (uuid) => att.attachmentsOfInstance(sql, uuid),
    async createSnapshot(req) {
      const s = await createSnapshot(deps, req);
      return { id: s.id };
    },
    deleteSnapshot: (id) => deleteSnapshot(deps, id),
  };
}
