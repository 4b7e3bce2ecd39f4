/** The wizard's Post-creation tab: the customization script (user data), typed or loaded from a file. */
import { useState } from 'react';
import type { LaunchForm } from './model';

/** Nova's limit on user_data is 65535 bytes of base64, about 48 KiB of script. */
const MAX_SCRIPT_BYTES = 49152;

export function PostCreationTab({ form, set }: { form: LaunchForm; set: (patch: Partial<LaunchForm>) => void }) {
  const [fileError, setFileError] = useState<string | null>(null);
  return (
    <div className="form">
      <label>
        Customization Script
        <textarea rows={10} spellCheck={false} value={form.userData} onChange={(e) => set({ userData: e.target.value })} />
      </label>
      <label>
        Load script from a file
        <input
          type="file"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (!file) return;
            if (file.size > MAX_SCRIPT_BYTES) return setFileError(`${file.name} is ${file.size} bytes; a customization script may be at most ${MAX_SCRIPT_BYTES} bytes.`);
            setFileError(null);
            void file.text().then((text) => set({ userData: text }));
          }}
        />
      </label>
      {fileError && (
        <p className="field-error" role="alert">
          {fileError}
        </p>
      )}
      <p>The script runs once when the instance first boots (cloud-init user data).</p>
    </div>
  );
}
