/**
 * Project > Images: the images the project sees (name, status, visibility, size, format),
 * upload from a file (POST /v2/images then PUT its file, with progress; a failed upload deletes
 * the queued record so nothing half-made stays), delete, and Launch (the wizard reads ?image=).
 */
import { useState, type FormEvent } from 'react';
import { createImage, deleteImage, listImages, uploadImageFile, type Image } from '../api/image';
import { Alert } from '../components/alert';
import { ConfirmDialog } from '../components/confirm';
import { formatBytes, titleCase } from '../format';
import { errorMessage, useInterval, useLoad } from '../hooks';
import { navigate } from '../router';
import { useSignedIn } from '../session';

const DISK_FORMATS = ['qcow2', 'raw', 'vmdk', 'vdi', 'vhd', 'vhdx', 'iso', 'ami', 'ari', 'aki', 'ploop'];
const CONTAINER_FORMATS = ['bare', 'ovf', 'ova', 'ami', 'ari', 'aki', 'docker'];

/** The disk format a file name suggests (qcow2 by default). */
function formatOf(fileName: string): string {
  const ext = fileName.split('.').pop()?.toLowerCase() ?? '';
  if (ext === 'img') return 'raw';
  return DISK_FORMATS.includes(ext) ? ext : 'qcow2';
}

export function ImagesPage() {
  const s = useSignedIn();
  const base = s.endpoints.image;
  const list = useLoad(() => (base ? listImages(base) : Promise.resolve([])), [base]);
  const [uploading, setUploading] = useState(false);
  const [form, setForm] = useState(false);
  const [name, setName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [diskFormat, setDiskFormat] = useState('qcow2');
  const [containerFormat, setContainerFormat] = useState('bare');
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Image | null>(null);

  // Statuses move (queued, saving, active) while an image is being made: poll while any is not settled.
  const unsettled = (list.data ?? []).some((i) => !['active', 'killed', 'deleted', 'deactivated'].includes(i.status));
  useInterval(() => {
    if (unsettled) list.reload();
  }, 3000);

  if (!base) return <Alert>This cloud offers no Image service.</Alert>;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setMessage(null);
    if (!name.trim()) return setError('Enter an image name.');
    if (!file) return setError('Choose the image file to upload.');
    setUploading(true);
    setProgress(0);
    let created: Image | null = null;
    try {
      created = await createImage(base, { name: name.trim(), disk_format: diskFormat, container_format: containerFormat });
      await uploadImageFile(base, created.id, file, s.token.id, setProgress);
      setMessage(`Uploaded image ${name.trim()}.`);
      setForm(false);
    } catch (err) {
      setError(errorMessage(err));
      if (created) await deleteImage(base, created.id).catch(() => {});
    } finally {
      setUploading(false);
      setProgress(null);
      list.reload();
    }
  };

  const remove = async (img: Image) => {
    setError(null);
    setMessage(null);
    try {
      await deleteImage(base, img.id);
      setMessage(`Deleted image ${img.name ?? img.id}.`);
    } catch (err) {
      setError(errorMessage(err));
    }
    list.reload();
  };

  const rows = [...(list.data ?? [])].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
  return (
    <section aria-labelledby="images-title">
      <div className="page-head">
        <h1 id="images-title">Images</h1>
        <div className="toolbar">
          <button
            type="button"
            className="primary"
            onClick={() => {
              setForm(true);
              setError(null);
            }}
          >
            Create Image
          </button>
        </div>
      </div>
      {list.error && <Alert>{list.error}</Alert>}
      {message && (
        <Alert kind="success" onDismiss={() => setMessage(null)}>
          {message}
        </Alert>
      )}
      {form && (
        <form className="inline" aria-label="Create Image" onSubmit={(e) => void submit(e)}>
          <label>
            Image Name
            <input value={name} onChange={(e) => setName(e.target.value)} autoFocus required />
          </label>
          <label>
            Image File
            <input
              type="file"
              onChange={(e) => {
                const f = e.target.files?.[0] ?? null;
                setFile(f);
                if (f) {
                  setDiskFormat(formatOf(f.name));
                  if (!name) setName(f.name.replace(/\.[^.]+$/, ''));
                }
              }}
            />
          </label>
          <label>
            Format
            <select aria-label="Format" value={diskFormat} onChange={(e) => setDiskFormat(e.target.value)}>
              {DISK_FORMATS.map((f) => (
                <option key={f} value={f}>
                  {f.toUpperCase()}
                </option>
              ))}
            </select>
          </label>
          <label>
            Container Format
            <select aria-label="Container Format" value={containerFormat} onChange={(e) => setContainerFormat(e.target.value)}>
              {CONTAINER_FORMATS.map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
          </label>
          {progress !== null && (
            <label>
              Upload progress
              <progress max={1} value={progress} />
            </label>
          )}
          {error && <Alert>{error}</Alert>}
          <div className="buttons">
            <button type="submit" className="primary" disabled={uploading}>
              {uploading ? 'Uploading…' : 'Upload Image'}
            </button>
            <button type="button" disabled={uploading} onClick={() => setForm(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {!form && error && <Alert onDismiss={() => setError(null)}>{error}</Alert>}
      <table className="grid" aria-label="Images">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Visibility</th>
            <th scope="col">Size</th>
            <th scope="col">Format</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((img) => {
            const label = img.name ?? img.id;
            return (
              <tr key={img.id} data-id={img.id} data-status={img.status}>
                <th scope="row">{label}</th>
                <td className={`status status-${img.status}`}>{titleCase(img.status)}</td>
                <td>{titleCase(img.visibility)}</td>
                <td>{formatBytes(img.size)}</td>
                <td>{(img.disk_format ?? '').toUpperCase()}</td>
                <td className="row-actions">
                  <button type="button" disabled={img.status !== 'active'} aria-label={`Launch instance from ${label}`} onClick={() => navigate(`/project/instances/launch?image=${encodeURIComponent(img.id)}`)}>
                    Launch
                  </button>
                  <button type="button" className="danger" disabled={img.owner !== s.token.body.project?.id || img.protected} aria-label={`Delete image ${label}`} onClick={() => setConfirm(img)}>
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
          {!list.loading && rows.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                No images.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {confirm && (
        <ConfirmDialog
          title="Confirm Delete Image"
          message={`Delete image ${confirm.name ?? confirm.id}? This cannot be undone.`}
          confirmLabel="Delete Image"
          onClose={(ok) => {
            const img = confirm;
            setConfirm(null);
            if (ok) void remove(img);
          }}
        />
      )}
    </section>
  );
}
