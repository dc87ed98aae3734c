// Backup export and restore panels (used on the configuration screen and in the wizard).
import { useState } from 'preact/hooks';
import { api, download, post } from './api.js';
import { ActionButton, Field, Notice, errorText } from './ui.js';
import { t } from '../../i18n/i18n.js';

export function BackupExport() {
  const [pass, setPass] = useState('');
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  return (
    <div data-testid="backup-export">
      <Field label={t('backup:exportPassphrase')}>
        <input type="password" name="export-passphrase" value={pass} onInput={(e) => setPass(e.currentTarget.value)} />
      </Field>
      <ActionButton
        testId="backup-export-button"
        onClick={async () => {
          setMsg(null);
          try {
            const res = await api<Response>('POST', '/api/v1/backup/export', { passphrase: pass }, { raw: true });
            await download(res, 'edgevox.evxbak');
            setMsg({ kind: 'ok', text: t('backup:downloaded') });
          } catch (err) {
            setMsg({ kind: 'error', text: errorText(err) });
          }
        }}
      >
        {t('backup:download')}
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
      <Field label={t('backup:file')}>
        <input
          type="file"
          name="restore-file"
          accept=".evxbak,application/octet-stream"
          onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
        />
      </Field>
      <Field label={t('backup:passphrase')}>
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
              text: r.restartRequired.length
                ? t('backup:restoredRestart', { site: r.siteId, keys: r.restartRequired.join(', ') })
                : t('backup:restored', { site: r.siteId }),
            });
            onRestored(r);
          } catch (err) {
            setMsg({ kind: 'error', text: errorText(err) });
          }
        }}
      >
        {t('backup:restore')}
      </ActionButton>
      {msg ? (
        <Notice kind={msg.kind} testId="restore-result">
          {msg.text}
        </Notice>
      ) : null}
    </div>
  );
}
