import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../db/open.js';
import type { Sql } from '../../db/sql.js';
import { checkQuota, maxAllowedCount, quotaLimits, quotaUsage } from './quota.js';

describe('quota engine', () => {
  let sql: Sql;
  const addInstance = (n: number, user: string, vcpus: number, ram: number) =>
    sql.run(
      `INSERT INTO instances (uuid, project_id, user_id, display_name, flavor_id, flavor, vm_state, memory_mb, vcpus, root_gb, reservation_id, created_at, updated_at)
       VALUES (?, 'p1', ?, 'vm', 1, '{}', 'active', ?, ?, 1, 'r', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')`,
      [`u-${n}`, user, ram, vcpus],
    );
  before(async () => {
    sql = await openDatabase('sqlite::memory:');
    await addInstance(1, 'alice', 2, 1024);
    await addInstance(2, 'bob', 4, 2048);
    await sql.run("INSERT INTO key_pairs (name, user_id, fingerprint, public_key, created_at) VALUES ('k', 'alice', 'f', 'p', 'now')");
  });
  after(() => sql.close());

  it('layers built-in defaults, the default class, project and user overrides', async () => {
    assert.equal((await quotaLimits(sql, 'p1')).instances, 10);
    await sql.run("INSERT INTO quota_classes (class_name, resource, hard_limit) VALUES ('default', 'instances', 8)");
    assert.equal((await quotaLimits(sql, 'p1')).instances, 8);
    await sql.run("INSERT INTO quotas (project_id, user_id, resource, hard_limit) VALUES ('p1', '', 'instances', 5)");
    await sql.run("INSERT INTO quotas (project_id, user_id, resource, hard_limit) VALUES ('p1', 'alice', 'instances', 1)");
    assert.equal((await quotaLimits(sql, 'p1')).instances, 5);
    assert.equal((await quotaLimits(sql, 'p1', 'alice')).instances, 1);
    assert.equal((await quotaLimits(sql, 'p1', 'bob')).instances, 5);
  });

  it('counts project usage and per-user usage with key pairs', async () => {
    await sql.run("INSERT INTO server_groups (uuid, name, project_id, user_id, policy, created_at) VALUES ('g1', 'g', 'p1', 'bob', 'affinity', 'now')");
    assert.deepEqual(await quotaUsage(sql, 'p1'), { instances: 2, cores: 6, ram: 3072, server_groups: 1 });
    assert.deepEqual(await quotaUsage(sql, 'p1', 'alice'), { instances: 1, cores: 2, ram: 1024, key_pairs: 1, server_groups: 0 });
  });

  it('checks the project limit, and the user limit when a user is given', async () => {
    await checkQuota(sql, 'p1', { instances: 3 });
    await assert.rejects(checkQuota(sql, 'p1', { instances: 4 }), /Quota exceeded for instances: Requested 4, but already used 2 of 5 instances/);
    await assert.rejects(checkQuota(sql, 'p1', { instances: 1 }, 'alice'), /already used 1 of 1 instances/);
    await checkQuota(sql, 'p1', { instances: 1 }, 'bob');
  });

  it('fits as many as the quota allows between min and max count', async () => {
    assert.equal(await maxAllowedCount(sql, 'p1', { instances: 1, cores: 1, ram: 1 }, 1, 10), 3);
    await assert.rejects(maxAllowedCount(sql, 'p1', { instances: 1, cores: 1, ram: 1 }, 4, 10), /Quota exceeded/);
  });
});
