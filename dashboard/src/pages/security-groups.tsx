/**
 * Project > Security Groups: the project's groups (create, delete) and the rule editor of the
 * selected group (add: direction, protocol, port range, remote CIDR or group; delete a rule).
 * The group shown is ?group=<id> (the first one otherwise), so the editor can be linked to.
 */
import { useState, type FormEvent } from 'react';
import { createSecurityGroup, createSecurityGroupRule, deleteSecurityGroup, deleteSecurityGroupRule, listSecurityGroups, type NewSecurityGroupRule, type SecurityGroup, type SecurityGroupRule } from '../api/network';
import { Alert } from '../components/alert';
import { ConfirmDialog } from '../components/confirm';
import { useAction, useLoad } from '../hooks';
import { navigate, useLocation } from '../router';
import { useSignedIn } from '../session';

/** "80", "1000-2000", "Any". */
function portRange(r: SecurityGroupRule): string {
  if (r.port_range_min === null && r.port_range_max === null) return 'Any';
  if (r.protocol === 'icmp') return `type ${r.port_range_min ?? 'any'}, code ${r.port_range_max ?? 'any'}`;
  return r.port_range_min === r.port_range_max ? String(r.port_range_min) : `${r.port_range_min ?? ''}-${r.port_range_max ?? ''}`;
}

export function SecurityGroupsPage() {
  const s = useSignedIn();
  const base = s.endpoints.network;
  const project = s.token.body.project!.id;
  const { search } = useLocation();
  const list = useLoad(() => (base ? listSecurityGroups(base, { project_id: project }) : Promise.resolve([])), [base, project]);
  const { busy, error, message, setError, setMessage, run } = useAction(list.reload);
  const [creating, setCreating] = useState(false);
  const [groupName, setGroupName] = useState('');
  const [groupDescription, setGroupDescription] = useState('');
  const [confirm, setConfirm] = useState<SecurityGroup | null>(null);
  // The rule form.
  const [direction, setDirection] = useState<'ingress' | 'egress'>('ingress');
  const [ethertype, setEthertype] = useState<'IPv4' | 'IPv6'>('IPv4');
  const [protocol, setProtocol] = useState('tcp');
  const [portMin, setPortMin] = useState('');
  const [portMax, setPortMax] = useState('');
  const [remote, setRemote] = useState<'cidr' | 'group'>('cidr');
  const [cidr, setCidr] = useState('0.0.0.0/0');
  const [remoteGroup, setRemoteGroup] = useState('');

  if (!base) return <Alert>This cloud offers no Network service.</Alert>;
  const groups = [...(list.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const wanted = new URLSearchParams(search).get('group');
  const group = groups.find((g) => g.id === wanted) ?? groups[0];

  const createGroup = async (e: FormEvent) => {
    e.preventDefault();
    if (!groupName.trim()) return setError('Enter a security group name.');
    let made: SecurityGroup | null = null;
    const ok = await run(async () => {
      made = await createSecurityGroup(base, groupName.trim(), groupDescription.trim());
    }, `Created security group ${groupName.trim()}.`);
    if (ok && made) {
      setCreating(false);
      setGroupName('');
      setGroupDescription('');
      navigate(`/project/security_groups?group=${(made as SecurityGroup).id}`);
    }
  };

  const addRule = async (e: FormEvent) => {
    e.preventDefault();
    if (!group) return;
    const rule: NewSecurityGroupRule = { security_group_id: group.id, direction, ethertype, protocol: protocol === 'any' ? null : protocol };
    const ports = protocol === 'tcp' || protocol === 'udp' || protocol === 'icmp';
    if (ports && portMin.trim()) {
      const lo = Number(portMin);
      const hi = portMax.trim() ? Number(portMax) : protocol === 'icmp' ? null : lo;
      const max = protocol === 'icmp' ? 255 : 65535;
      const from = protocol === 'icmp' ? 0 : 1;
      if (!Number.isInteger(lo) || lo < from || lo > max || (hi !== null && (!Number.isInteger(hi) || hi < from || hi > max))) {
        return setError(protocol === 'icmp' ? 'ICMP type and code are whole numbers from 0 to 255.' : 'Ports are whole numbers from 1 to 65535.');
      }
      if (protocol !== 'icmp' && hi !== null && hi < lo) return setError('The last port must not be below the first.');
      rule.port_range_min = lo;
      rule.port_range_max = hi;
    }
    if (remote === 'cidr') rule.remote_ip_prefix = cidr.trim() || null;
    else if (remoteGroup) rule.remote_group_id = remoteGroup;
    else return setError('Choose the remote security group.');
    await run(() => createSecurityGroupRule(base, rule), `Added a rule to ${group.name}.`);
  };

  return (
    <section aria-labelledby="secgroups-title">
      <div className="page-head">
        <h1 id="secgroups-title">Security Groups</h1>
        <div className="toolbar">
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create Security Group
          </button>
        </div>
      </div>
      {list.error && <Alert>{list.error}</Alert>}
      {message && (
        <Alert kind="success" onDismiss={() => setMessage(null)}>
          {message}
        </Alert>
      )}
      {error && <Alert onDismiss={() => setError(null)}>{error}</Alert>}
      {creating && (
        <form className="inline" aria-label="Create Security Group" onSubmit={(e) => void createGroup(e)}>
          <label>
            Security Group Name
            <input value={groupName} onChange={(e) => setGroupName(e.target.value)} autoFocus required />
          </label>
          <label>
            Description
            <input value={groupDescription} onChange={(e) => setGroupDescription(e.target.value)} />
          </label>
          <div className="buttons">
            <button type="submit" className="primary" disabled={busy}>
              Create Security Group
            </button>
            <button type="button" onClick={() => setCreating(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <table className="grid" aria-label="Security groups">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Description</th>
            <th scope="col">Rules</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.id} data-id={g.id} aria-selected={g.id === group?.id}>
              <th scope="row">{g.name}</th>
              <td>{g.description}</td>
              <td>{g.security_group_rules.length}</td>
              <td className="row-actions">
                <button type="button" aria-label={`Manage rules of ${g.name}`} aria-pressed={g.id === group?.id} onClick={() => navigate(`/project/security_groups?group=${g.id}`)}>
                  Manage Rules
                </button>
                <button type="button" className="danger" disabled={g.name === 'default'} aria-label={`Delete security group ${g.name}`} onClick={() => setConfirm(g)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {group && (
        <section aria-labelledby="rules-title">
          <h2 id="rules-title">Rules of {group.name}</h2>
          <form className="inline" aria-label="Add Rule" onSubmit={(e) => void addRule(e)}>
            <label>
              Direction
              <select value={direction} onChange={(e) => setDirection(e.target.value as 'ingress' | 'egress')}>
                <option value="ingress">Ingress</option>
                <option value="egress">Egress</option>
              </select>
            </label>
            <label>
              Ether Type
              <select value={ethertype} onChange={(e) => {
                  const v = e.target.value as 'IPv4' | 'IPv6';
                  setEthertype(v);
                  // The "anywhere" CIDR follows the ether type.
                  if (cidr === '0.0.0.0/0' || cidr === '::/0') setCidr(v === 'IPv6' ? '::/0' : '0.0.0.0/0');
                }}>
                <option value="IPv4">IPv4</option>
                <option value="IPv6">IPv6</option>
              </select>
            </label>
            <label>
              IP Protocol
              <select value={protocol} onChange={(e) => setProtocol(e.target.value)}>
                <option value="tcp">TCP</option>
                <option value="udp">UDP</option>
                <option value="icmp">ICMP</option>
                <option value="any">Any</option>
              </select>
            </label>
            {protocol !== 'any' && (
              <>
                <label>
                  {protocol === 'icmp' ? 'ICMP Type' : 'From Port'}
                  <input inputMode="numeric" size={6} value={portMin} onChange={(e) => setPortMin(e.target.value)} placeholder="any" />
                </label>
                <label>
                  {protocol === 'icmp' ? 'ICMP Code' : 'To Port'}
                  <input inputMode="numeric" size={6} value={portMax} onChange={(e) => setPortMax(e.target.value)} placeholder={protocol === 'icmp' ? 'any' : 'same'} />
                </label>
              </>
            )}
            <label>
              Remote
              <select value={remote} onChange={(e) => setRemote(e.target.value as 'cidr' | 'group')}>
                <option value="cidr">CIDR</option>
                <option value="group">Security Group</option>
              </select>
            </label>
            {remote === 'cidr' ? (
              <label>
                Remote CIDR
                <input value={cidr} onChange={(e) => setCidr(e.target.value)} size={18} />
              </label>
            ) : (
              <label>
                Remote Security Group
                <select value={remoteGroup} onChange={(e) => setRemoteGroup(e.target.value)}>
                  <option value="">Select a group</option>
                  {groups.map((g) => (
                    <option key={g.id} value={g.id}>
                      {g.name}
                    </option>
                  ))}
                </select>
              </label>
            )}
            <div className="buttons">
              <button type="submit" className="primary" disabled={busy}>
                Add Rule
              </button>
            </div>
          </form>
          <table className="grid" aria-label={`Rules of ${group.name}`}>
            <thead>
              <tr>
                <th scope="col">Direction</th>
                <th scope="col">Ether Type</th>
                <th scope="col">IP Protocol</th>
                <th scope="col">Port Range</th>
                <th scope="col">Remote</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {group.security_group_rules.map((r) => {
                const remoteText = r.remote_group_id ? (groups.find((g) => g.id === r.remote_group_id)?.name ?? r.remote_group_id) : (r.remote_ip_prefix ?? (r.ethertype === 'IPv6' ? '::/0' : '0.0.0.0/0'));
                const desc = `${r.direction} ${r.protocol ?? 'any'} ${portRange(r)} ${remoteText}`;
                return (
                  <tr key={r.id} data-id={r.id}>
                    <td>{r.direction === 'ingress' ? 'Ingress' : 'Egress'}</td>
                    <td>{r.ethertype}</td>
                    <td>{r.protocol ? r.protocol.toUpperCase() : 'Any'}</td>
                    <td>{portRange(r)}</td>
                    <td>{remoteText}</td>
                    <td>
                      <button type="button" className="danger" disabled={busy} aria-label={`Delete rule ${desc}`} onClick={() => void run(() => deleteSecurityGroupRule(base, r.id), 'Deleted the rule.')}>
                        Delete Rule
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}
      {confirm && (
        <ConfirmDialog
          title="Confirm Delete Security Group"
          message={`Delete security group ${confirm.name}?`}
          confirmLabel="Delete Security Group"
          onClose={(ok) => {
            const g = confirm;
            setConfirm(null);
            if (ok) void run(() => deleteSecurityGroup(base, g.id), `Deleted security group ${g.name}.`).then(() => navigate('/project/security_groups'));
          }}
        />
      )}
    </section>
  );
}
