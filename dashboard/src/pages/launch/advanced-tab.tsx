/** The wizard's Advanced tab: disk partition (OS-DCF:diskConfig), configuration drive, server group. */
import type { ServerGroup } from '../../api/compute';
import type { LaunchForm } from './model';

export function AdvancedTab({ form, set, groups }: { form: LaunchForm; set: (patch: Partial<LaunchForm>) => void; groups: ServerGroup[] | undefined }) {
  return (
    <div className="form">
      <label>
        Disk Partition
        <select aria-label="Disk Partition" value={form.diskConfig} onChange={(e) => set({ diskConfig: e.target.value === 'MANUAL' ? 'MANUAL' : 'AUTO' })}>
          <option value="AUTO">Automatic</option>
          <option value="MANUAL">Manual</option>
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={form.configDrive} onChange={(e) => set({ configDrive: e.target.checked })} />
        Configuration Drive
      </label>
      <label>
        Server Group
        <select aria-label="Server Group" value={form.serverGroup} onChange={(e) => set({ serverGroup: e.target.value })}>
          <option value="">No server group</option>
          {(groups ?? []).map((g) => (
            <option key={g.id} value={g.id}>
              {g.name} ({g.policy ?? g.policies?.join(', ')})
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
