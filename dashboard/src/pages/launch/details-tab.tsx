/** The wizard's Details tab: name, availability zone, count, flavor with its quota preview, boot source. */
import type { AbsoluteLimits, AvailabilityZone, Flavor } from '../../api/compute';
import type { Image } from '../../api/image';
import type { Volume } from '../../api/volume';
import { exceeds, quotaRows, type Field, type LaunchForm } from './model';
import { FieldError } from './field-error';

export interface DetailsProps {
  form: LaunchForm;
  set: (patch: Partial<LaunchForm>) => void;
  errors: Partial<Record<Field, string>>;
  zones: AvailabilityZone[] | undefined;
  flavors: Flavor[] | undefined;
  limits: AbsoluteLimits | undefined;
  images: Image[] | undefined;
  volumes: Volume[] | undefined;
  volumesAvailable: boolean;
}

export function DetailsTab({ form, set, errors, zones, flavors, limits, images, volumes, volumesAvailable }: DetailsProps) {
  const flavor = flavors?.find((f) => f.id === form.flavorId);
  const rows = quotaRows(limits, flavor, form.count);
  return (
    <div className="form">
      <label>
        Instance Name
        <input value={form.name} onChange={(e) => set({ name: e.target.value })} aria-invalid={!!errors.name} aria-describedby="err-name" maxLength={255} />
      </label>
      <FieldError id="err-name" message={errors.name} />
      <label>
        Availability Zone
        <select aria-label="Availability Zone" value={form.availabilityZone} onChange={(e) => set({ availabilityZone: e.target.value })}>
          <option value="">Any Availability Zone</option>
          {(zones ?? []).filter((z) => z.zoneState.available).map((z) => (
            <option key={z.zoneName} value={z.zoneName}>
              {z.zoneName}
            </option>
          ))}
        </select>
      </label>
      <label>
        Count
        <input type="number" min={1} value={Number.isNaN(form.count) ? '' : form.count} onChange={(e) => set({ count: e.target.value === '' ? NaN : Number(e.target.value) })} aria-invalid={!!errors.count} aria-describedby="err-count" />
      </label>
      <FieldError id="err-count" message={errors.count} />
      <label>
        Flavor
        <select aria-label="Flavor" value={form.flavorId} onChange={(e) => set({ flavorId: e.target.value })} aria-invalid={!!errors.flavor} aria-describedby="err-flavor">
          <option value="">Select a flavor</option>
          {(flavors ?? []).map((f) => (
            <option key={f.id} value={f.id}>
              {f.name} ({f.vcpus} VCPU, {f.ram} MB RAM, {f.disk} GB disk)
            </option>
          ))}
        </select>
      </label>
      <FieldError id="err-flavor" message={errors.flavor} />
      <table className="grid" aria-label="Quota usage">
        <thead>
          <tr>
            <th scope="col">Quota</th>
            <th scope="col">Used</th>
            <th scope="col">This launch</th>
            <th scope="col">Limit</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((q) => (
            <tr key={q.label} data-over={exceeds(q) || undefined} className={exceeds(q) ? 'over' : undefined}>
              <th scope="row">{q.label}</th>
              <td>{q.used + q.unit}</td>
              <td>+{q.adds + q.unit}</td>
              <td>{q.limit < 0 ? 'Unlimited' : q.limit + q.unit}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <FieldError id="err-quota" message={errors.quota} />
      <label>
        Boot Source
        <select aria-label="Boot Source" value={form.bootSource} onChange={(e) => set({ bootSource: e.target.value === 'volume' ? 'volume' : 'image' })}>
          <option value="image">Image</option>
          {volumesAvailable && <option value="volume">Volume</option>}
        </select>
      </label>
      {form.bootSource === 'image' ? (
        <label>
          Image
          <select aria-label="Image" value={form.imageId} onChange={(e) => set({ imageId: e.target.value })} aria-invalid={!!errors.source} aria-describedby="err-source">
            <option value="">Select an image</option>
            {(images ?? []).filter((i) => i.status === 'active').map((i) => (
              <option key={i.id} value={i.id}>
                {i.name ?? i.id}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <label>
          Volume
          <select aria-label="Volume" value={form.volumeId} onChange={(e) => set({ volumeId: e.target.value })} aria-invalid={!!errors.source} aria-describedby="err-source">
            <option value="">Select a volume</option>
            {(volumes ?? []).filter((v) => v.status === 'available' && v.bootable === 'true').map((v) => (
              <option key={v.id} value={v.id}>
                {v.name || v.id} ({v.size} GB)
              </option>
            ))}
          </select>
        </label>
      )}
      <FieldError id="err-source" message={errors.source} />
    </div>
  );
}
