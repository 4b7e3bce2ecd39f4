/**
 * GET /servers and /servers/detail: Nova's filters, sorting and marker/limit paging, all in
 * SQL. Non-admins see only their project and have admin-only filters silently dropped, as in
 * Nova; invalid values of known filters are 400; from 2.75 unknown parameters are 400.
 */
import { forbidden, invalid } from '../../errors.js';
import { inList, likeEscape, type Sql, type SqlValue } from '../../db/sql.js';
import type { InstanceRow } from '../../db/instances.js';
import { ctxOf, type ApiRequest } from '../../http/types.js';
import { vmStatesForStatus } from '../../compute/vm-states.js';
import { changesWindow, pageParams, timeParam } from './common.js';
import { own } from '../../util/own.js';

const ALWAYS = ['reservation_id', 'name', 'status', 'image', 'flavor', 'ip', 'changes-since', 'all_tenants', 'limit', 'marker', 'sort_key', 'sort_dir'];
const TAG_FILTERS = ['tags', 'tags-any', 'not-tags', 'not-tags-any'];
const NON_ADMIN_283 = ['availability_zone', 'config_drive', 'key_name', 'created_at', 'launched_at', 'terminated_at', 'power_state', 'task_state', 'vm_state', 'progress', 'user_id'];
const ADMIN_ONLY = [
  'user_id', 'project_id', 'tenant_id', 'launch_index', 'image_ref', 'kernel_id', 'ramdisk_id', 'hostname', 'key_name',
  'power_state', 'vm_state', 'task_state', 'host', 'node', 'launched_at', 'terminated_at', 'availability_zone',
  'display_name', 'description', 'display_description', 'locked_by', 'uuid', 'root_device_name', 'config_drive',
  'access_ip_v4', 'access_ip_v6', 'auto_disk_config', 'progress', 'soft_deleted', 'deleted', 'created_at',
  'block_device_mapping', 'services', 'metadata', 'system_metadata', 'info_cache', 'security_groups', 'pci_devices',
];

/** Sort keys Nova accepts, with the column and how NULLs are compared. */
const SORT_KEYS: Record<string, { col: string; kind: 'text' | 'int' }> = {
  access_ip_v4: { col: 'access_ip_v4', kind: 'text' }, access_ip_v6: { col: 'access_ip_v6', kind: 'text' },
  auto_disk_config: { col: 'auto_disk_config', kind: 'int' }, availability_zone: { col: 'availability_zone', kind: 'text' },
  config_drive: { col: 'config_drive', kind: 'text' }, created_at: { col: 'created_at', kind: 'text' },
  display_description: { col: 'display_description', kind: 'text' }, display_name: { col: 'display_name', kind: 'text' },
  host: { col: 'host', kind: 'text' }, hostname: { col: 'hostname', kind: 'text' }, image_ref: { col: 'image_ref', kind: 'text' },
  instance_type_id: { col: 'flavor_id', kind: 'int' }, kernel_id: { col: 'kernel_id', kind: 'text' },
  key_name: { col: 'key_name', kind: 'text' }, launch_index: { col: 'launch_index', kind: 'int' },
  launched_at: { col: 'launched_at', kind: 'text' }, locked: { col: 'locked', kind: 'int' }, locked_by: { col: 'locked_by', kind: 'text' },
  node: { col: 'node', kind: 'text' }, power_state: { col: 'power_state', kind: 'int' }, progress: { col: 'progress', kind: 'int' },
  project_id: { col: 'project_id', kind: 'text' }, ramdisk_id: { col: 'ramdisk_id', kind: 'text' },
  root_device_name: { col: 'root_device_name', kind: 'text' }, task_state: { col: 'task_state', kind: 'text' },
  terminated_at: { col: 'terminated_at', kind: 'text' }, updated_at: { col: 'updated_at', kind: 'text' },
  user_id: { col: 'user_id', kind: 'text' }, uuid: { col: 'uuid', kind: 'text' }, vm_mode: { col: 'os_type', kind: 'text' },
  vm_state: { col: 'vm_state', kind: 'text' },
};
const REGEX_FILTERS: Record<string, string> = {
  name: 'display_name', display_name: 'display_name', description: 'display_description', display_description: 'display_description',
  hostname: 'hostname', key_name: 'key_name', availability_zone: 'availability_zone', node: 'node', kernel_id: 'kernel_id',
  ramdisk_id: 'ramdisk_id', root_device_name: 'root_device_name', access_ip_v4: 'access_ip_v4', access_ip_v6: 'access_ip_v6',
  locked_by: 'locked_by',
};
const EXACT_FILTERS: Record<string, string> = {
  user_id: 'user_id', image_ref: 'image_ref', host: 'host', uuid: 'uuid', vm_state: 'vm_state', task_state: 'task_state',
  reservation_id: 'reservation_id',
};
const INT_FILTERS: Record<string, string> = { power_state: 'power_state', progress: 'progress', launch_index: 'launch_index' };
const TIME_FILTERS = ['created_at', 'launched_at', 'terminated_at'];

function knownParams(req: ApiRequest): string[] {
  const out = [...ALWAYS, ...ADMIN_ONLY, 'ip6'];
  if (req.mv.atLeast('2.26')) out.push(...TAG_FILTERS);
  if (req.mv.atLeast('2.66')) out.push('changes-before');
  if (req.mv.atLeast('2.73')) out.push('locked');
  return out;
}

function allowedFor(req: ApiRequest): Set<string> {
  if (ctxOf(req).isAdmin) return new Set(knownParams(req));
  const out = [...ALWAYS];
  if (req.mv.atLeast('2.5')) out.push('ip6');
  if (req.mv.atLeast('2.26')) out.push(...TAG_FILTERS);
  if (req.mv.atLeast('2.66')) out.push('changes-before');
  if (req.mv.atLeast('2.73')) out.push('locked');
  if (req.mv.atLeast('2.83')) out.push(...NON_ADMIN_283);
  return new Set(out);
}

function strictBool(name: string, raw: string): boolean {
  const v = raw.toLowerCase();
  if (['true', 't', '1', 'on', 'y', 'yes'].includes(v)) return true;
  if (['false', 'f', '0', 'off', 'n', 'no'].includes(v)) return false;
  throw invalid(`Invalid input for query parameters ${name}. Value: ${raw}. '${raw}' is not a valid boolean`);
}

function regexParam(name: string, raw: string): string {
  try {
    new RegExp(raw);
  } catch {
    throw invalid(`Invalid input for query parameters ${name}. Value: ${raw}. Invalid regular expression.`);
  }
  return raw;
}

/** One page of instances for the list APIs, in the order the caller asked for. */
export async function listInstances(sql: Sql, req: ApiRequest): Promise<{ rows: InstanceRow[]; limit: number }> {
  const ctx = ctxOf(req);
  const q = req.query;
  if (req.mv.atLeast('2.75')) {
    const known = knownParams(req);
    for (const k of q.keys()) if (!known.includes(k)) throw invalid(`Invalid input for query parameters ${k}. Additional properties are not allowed ('${k}' was unexpected)`);
  }
  const { limit, marker } = pageParams(req);
  const allowed = allowedFor(req);
  const has = (k: string) => allowed.has(k) && q.has(k);
  const one = (k: string) => q.getAll(k).at(-1)!;
  const where: string[] = ['hidden = 0'];
  const params: SqlValue[] = [];
  const regexOp = sql.dialect === 'postgres' ? '~' : 'REGEXP';

  // Project scope: own project unless an admin asks for all_tenants.
  const allTenants = has('all_tenants') ? (one('all_tenants') === '' ? true : strictBool('all_tenants', one('all_tenants'))) : false;
  if (allTenants && ctx.isAdmin) {
    const project = has('project_id') ? one('project_id') : has('tenant_id') ? one('tenant_id') : null;
    if (project !== null) {
      where.push('project_id = ?');
      params.push(project);
    }
  } else if (ctx.projectId) {
    {
      where.push('project_id = ?');
      params.push(ctx.projectId);
    }
  } else {
    {
      where.push('user_id = ?');
      params.push(ctx.userId);
    }
  }

  // Deleted rows: hidden unless asked for, or when changes-since/-before want to show deletions.
  let deleted: boolean | null = false;
  if (has('deleted')) deleted = strictBool('deleted', one('deleted'));
  const since = has('changes-since') ? timeParam('changes-since', one('changes-since')) : null;
  const before = has('changes-before') ? timeParam('changes-before', one('changes-before')) : null;
  changesWindow(where, params, since, before);
  if ((since || before) && !has('deleted')) deleted = null;

  if (has('status')) {
    const vmStates = new Set<string>();
    const taskStates = new Set<string | null>();
    let anyTask = false;
    for (const st of q.getAll('status')) {
      if (st.toLowerCase() === 'deleted') {
        if (!ctx.isAdmin) throw forbidden('Only administrators may list deleted instances');
        deleted = true;
        continue;
      }
      const m = vmStatesForStatus(st);
      if (!m) {
        if (!req.mv.atLeast('2.38')) return { rows: [], limit };
        throw invalid(`Invalid status value`);
      }
      m.vmStates.forEach((v) => vmStates.add(v));
      if (m.taskStates) m.taskStates.forEach((t) => taskStates.add(t));
      else anyTask = true;
    }
    if (vmStates.size) {
      {
      where.push(`vm_state IN ${inList(vmStates.size)}`);
      params.push(...vmStates);
    }
      if (!anyTask && taskStates.size) {
        const nonNull = [...taskStates].filter((t): t is string => t !== null);
        const parts = nonNull.length ? [`task_state IN ${inList(nonNull.length)}`] : [];
        if (taskStates.has(null)) parts.push('task_state IS NULL');
        {
      where.push(`(${parts.join(' OR ')})`);
      params.push(...nonNull);
    }
      }
    }
  }
  if (deleted === true) where.push('deleted != 0');
  else if (deleted === false) where.push('deleted = 0');

  for (const [k, col] of Object.entries(REGEX_FILTERS))
    if (has(k)) {
      where.push(`${col} ${regexOp} ?`);
      params.push(regexParam(k, one(k)));
    }
  for (const [k, col] of Object.entries(EXACT_FILTERS)) if (has(k)) {
      where.push(`${col} = ?`);
      params.push(one(k));
    }
  for (const [k, col] of Object.entries(INT_FILTERS))
    if (has(k)) {
      const v = one(k);
      if (!/^-?\d+$/.test(v)) throw invalid(`Invalid input for query parameters ${k}. Value: ${v}. '${v}' is not an integer`);
      {
      where.push(`${col} = ?`);
      params.push(Number(v));
    }
    }
  for (const k of TIME_FILTERS) if (has(k)) {
      where.push(`${k} = ?`);
      params.push(timeParam(k, one(k)));
    }
  if (has('image')) {
      where.push('image_ref = ?');
      params.push(one('image').replace(/\/+$/, '').split('/').pop()!);
    }
  if (has('flavor')) {
    const fid = one('flavor').replace(/\/+$/, '').split('/').pop()!;
    {
      where.push('flavor_id IN (SELECT id FROM flavors WHERE flavorid = ?)');
      params.push(fid);
    }
  }
  if (has('config_drive')) {
      where.push('config_drive = ?');
      params.push(strictBool('config_drive', one('config_drive')) ? 'True' : '');
    }
  if (has('auto_disk_config')) {
      where.push('auto_disk_config = ?');
      params.push(strictBool('auto_disk_config', one('auto_disk_config')) ? 1 : 0);
    }
  if (has('locked')) {
      where.push('locked = ?');
      params.push(strictBool('locked', one('locked')) ? 1 : 0);
    }
  for (const k of ['ip', 'ip6'])
    if (has(k)) {
      where.push(`network_info LIKE ? ESCAPE '\\'`);
      params.push(`%"address":"${likeEscape(one(k))}%`);
    }
  addTagFilters(req, has, one, where, params);

  const order = sortOrder(req);
  if (marker !== null) {
    const m = await sql.get<InstanceRow>('SELECT * FROM instances WHERE uuid = ?', [marker]);
    if (!m) throw invalid(`marker [${marker}] not found`);
    const ors: string[] = [];
    for (let i = 0; i < order.length; i++) {
      const ands: string[] = [];
      for (let j = 0; j < i; j++) {
        ands.push(`${order[j].expr} = ?`);
        params.push(order[j].value(m));
      }
      ands.push(`${order[i].expr} ${order[i].dir === 'asc' ? '>' : '<'} ?`);
      params.push(order[i].value(m));
      ors.push(`(${ands.join(' AND ')})`);
    }
    where.push(`(${ors.join(' OR ')})`);
  }
  const rows = await sql.all<InstanceRow>(
    `SELECT * FROM instances WHERE ${where.join(' AND ')} ORDER BY ${order.map((o) => `${o.expr} ${o.dir.toUpperCase()}`).join(', ')} LIMIT ${limit}`,
    params,
  );
  return { rows, limit };
}

function addTagFilters(req: ApiRequest, has: (k: string) => boolean, one: (k: string) => string, where: string[], params: SqlValue[]) {
  const list = (k: string) => [...new Set(one(k).split(',').map((t) => t.trim()).filter(Boolean))];
  if (has('tags')) {
    const tags = list('tags');
    where.push(`(SELECT COUNT(*) FROM instance_tags t WHERE t.instance_uuid = instances.uuid AND t.tag IN ${inList(tags.length)}) = ${tags.length}`);
    params.push(...tags);
  }
  if (has('tags-any')) {
    const tags = list('tags-any');
    where.push(`EXISTS (SELECT 1 FROM instance_tags t WHERE t.instance_uuid = instances.uuid AND t.tag IN ${inList(tags.length)})`);
    params.push(...tags);
  }
  if (has('not-tags')) {
    const tags = list('not-tags');
    where.push(`(SELECT COUNT(*) FROM instance_tags t WHERE t.instance_uuid = instances.uuid AND t.tag IN ${inList(tags.length)}) < ${tags.length}`);
    params.push(...tags);
  }
  if (has('not-tags-any')) {
    const tags = list('not-tags-any');
    where.push(`NOT EXISTS (SELECT 1 FROM instance_tags t WHERE t.instance_uuid = instances.uuid AND t.tag IN ${inList(tags.length)})`);
    params.push(...tags);
  }
  void req;
}

interface SortTerm {
  expr: string;
  dir: 'asc' | 'desc';
  value: (row: InstanceRow) => SqlValue;
}

/** sort_key/sort_dir pairs, then created_at and id as Nova's tie-breakers. */
function sortOrder(req: ApiRequest): SortTerm[] {
  const keys = req.query.getAll('sort_key');
  const dirs = req.query.getAll('sort_dir');
  for (const k of keys)
    if (!own(SORT_KEYS, k)) throw invalid(`Invalid input for query parameters sort_key. Value: ${k}. '${k}' is not one of ${JSON.stringify(Object.keys(SORT_KEYS))}`);
  for (const d of dirs) if (d !== 'asc' && d !== 'desc') throw invalid(`Invalid input for query parameters sort_dir. Value: ${d}. '${d}' is not one of ['asc', 'desc']`);
  if (dirs.length > keys.length && keys.length > 0) throw invalid('Sort direction size exceeds sort key size');
  const terms: SortTerm[] = [];
  const seen = new Set<string>();
  const defaultDir = (dirs[0] as 'asc' | 'desc' | undefined) ?? 'desc';
  keys.forEach((k, i) => {
    if (!ctxOf(req).isAdmin && (k === 'host' || k === 'node')) return;
    const { col, kind } = own(SORT_KEYS, k)!;
    if (seen.has(col)) return;
    seen.add(col);
    terms.push(term(col, kind, (dirs[i] as 'asc' | 'desc' | undefined) ?? defaultDir));
  });
  if (!seen.has('created_at')) terms.push(term('created_at', 'text', defaultDir));
  terms.push(term('id', 'int', defaultDir));
  return terms;
}

function term(col: string, kind: 'text' | 'int', dir: 'asc' | 'desc'): SortTerm {
  const fallback = kind === 'text' ? "''" : '-1';
  const expr = col === 'id' || col === 'created_at' || col === 'uuid' ? col : `COALESCE(${col}, ${fallback})`;
  return {
    expr,
    dir,
    value: (row) => ((row as unknown as Record<string, SqlValue>)[col] ?? (kind === 'text' ? '' : -1)) as SqlValue,
  };
}
