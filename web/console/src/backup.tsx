// Backup export and restore panels (used on the configuration screen and in the wizard).
import { useState } from 'preact/hooks';
import { api, download, post } from './api.js';
import { ActionButton, Field, Notice, errorText } from './ui.js';

export function BackupExport() {
  const [pass, setPass] = useState('');
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  return (
    <div data-testid="backup-export">
      <Field label="Passphrase (12+ characters; needed to restore)">
        <input type="password" name="export-passphrase" value={pass} onInput={(e) => setPass(e.currentTarget.value)} />
      </Field>
      <ActionButton
        testId="backup-export-button"
        onClick={async () => {
          setMsg(null);
          try {
            const res = await api<Response>('POST', '/api/v1/backup/export', { passphrase: pass }, { raw: true });
            await download(res, 'edgevox.evxbak');
            setMsg({ kind: 'ok', text: 'Backup downloaded. Keep the passphrase with it: without it the file cannot be read.' });
          } catch (err) {
            setMsg({ kind: 'error', text: errorText(err) });
          }
        }}
      >
        Download encrypted backup
      </ActionButton>
      {msg ? <Notice kind={msg.kind}>{msg.text}</Notice> : null}
    </div>
  );
}

export function BackupRestore({ onRestored }: { onRestored: (r: { signInAgain: boolean; restartRequired: string[] }) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [pass, setPass] = useState('');
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  return (
    <div data-testid="backup-restore">
      <Field label="Backup file (.evxbak)">
        <input
          type="file"
          name="restore-file"
          accept=".evxbak,application/octet-stream"
          onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
        />
      </Field>
      <Field label="Passphrase">
        <input type="password" name="restore-passphrase" value={pass} onInput={(e) => setPass(e.currentTarget.value)} />
      </Field>
      <ActionButton
        kind="danger"
        testId="backup-restore-button"
        disabled={file === null}
        onClick={async () => {
          setMsg(null);
          try {
            const bytes = new Uint8Array(await file!.arrayBuffer());
            let bin = '';
            for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
            const r = await post<{ siteId: string; restartRequired: string[]; signInAgain: boolean }>('/api/v1/backup/restore', {
              passphrase: pass,
              file: btoa(bin),
            });
            setMsg({
              kind: 'ok',
              text: `Restored the backup of ${r.siteId}.${r.restartRequired.length ? ` Restart the appliance to apply: ${r.restartRequired.join(', ')}.` : ''}`,
            });
            onRestored(r);
          } catch (err) {
            setMsg({ kind: 'error', text: errorText(err) });
          }
        }}
      >
        Restore backup
      </ActionButton>
      {msg ? (
        <Notice kind={msg.kind} testId="restore-result">
          {msg.text}
        </Notice>
      ) : null}
    </div>
  );
}
