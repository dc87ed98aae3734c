/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- API JSON is validated and typed by the server; the screens read it loosely. */
// Configuration: every key of the schema as a form (validated by the appliance), versions with
// diff and rollback, encrypted backup export/restore, the TLS certificate, and accounts.
import { useEffect, useState } from 'preact/hooks';
import { api, fmtTime, get, post, type Session } from './api.js';
import { BackupExport, BackupRestore } from './backup.js';
import { ActionButton, Card, Field, Notice, errorText } from './ui.js';
import { t } from '../../i18n/i18n.js';

interface FieldSpec {
  key: string;
  type: string;
  enum?: unknown[];
  items?: { type?: string };
  minimum?: number;
  maximum?: number;
  description: string;
  live: boolean;
  secret: boolean;
  editable: boolean;
}

function getPath(obj: any, key: string): unknown {
  return key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function toText(spec: FieldSpec, v: unknown): string {
  if (spec.type === 'array')
    return spec.items?.type === 'string' || (spec.items?.type === undefined && Array.isArray(v) && v.every((x) => typeof x === 'string'))
      ? (v as string[]).join('\n')
      : JSON.stringify(v, null, 1);
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function fromText(spec: FieldSpec, text: string): unknown {
  if (spec.type === 'integer' || spec.type === 'number') return text.trim() === '' ? text : Number(text);
  if (spec.type === 'boolean') return text === 'true';
  if (spec.type === 'array') {
    if (spec.items?.type === 'string')
      return text
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean);
    try {
      return JSON.parse(text || '[]');
    } catch {
      return text;
    }
  }
  return text;
}

export function ConfigScreen({ session }: { session: Session }) {
  const canEdit = session.role === 'technician';
  const [fields, setFields] = useState<FieldSpec[]>([]);
  const [cfg, setCfg] = useState<any>(null);
  const [version, setVersion] = useState(0);
  const [pending, setPending] = useState<string[]>([]);
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [comment, setComment] = useState('');
  const [result, setResult] = useState<{ kind: 'ok' | 'error'; text: string; changes?: any[] } | null>(null);
  const [versions, setVersions] = useState<any[]>([]);
  const [diff, setDiff] = useState<{ from: number; to: number; changes: any[] } | null>(null);
  const [filter, setFilter] = useState('');

  const load = async () => {
    const [s, c, v] = await Promise.all([get('/api/v1/config/schema'), get('/api/v1/config'), get('/api/v1/config/versions')]);
    setFields(s.fields);
    setCfg(c.config);
    setVersion(c.version);
    setPending(c.restartRequired);
    setVersions(v.versions);
    setEdits({});
  };
  useEffect(() => void load().catch((e) => setResult({ kind: 'error', text: errorText(e) })), []);
  if (!cfg) return result ? <Notice kind="error">{result.text}</Notice> : <p>{t('common:loading')}</p>;

  const sections = [...new Set(fields.map((f) => f.key.split('.')[0]!))];
  const save = async () => {
    setResult(null);
    const changes: Record<string, unknown> = {};
    for (const [key, text] of Object.entries(edits))
      changes[key] = fromText(
        fields.find((f) => f.key === key)!,
        text,
      );
    if (Object.keys(changes).length === 0) return setResult({ kind: 'error', text: t('settings:raw.nothingChanged') });
    try {
      const r = await api('PATCH', '/api/v1/config', { changes, comment });
      setResult({
        kind: 'ok',
        text: r.restartRequired.length
          ? t('settings:savedRestart', { version: r.version, keys: r.restartRequired.join(', ') })
          : t('settings:saved', { version: r.version }),
        changes: r.changes,
      });
      setComment('');
      await load();
    } catch (err) {
      setResult({ kind: 'error', text: errorText(err) });
    }
  };

  return (
    <div data-testid="config">
      <h1>{t('settings:raw.title')}</h1>
      <p>
        <a href="#/settings" data-testid="raw-to-settings">
          {t('settings:raw.toSettings')}
        </a>
      </p>
      <p class="muted">
        {t('settings:version', { version })} {canEdit ? t('settings:canEdit') : t('settings:readOnly')}
      </p>
      {pending.length ? (
        <Notice kind="warn" testId="restart-required">
          {t('settings:pendingRestart', { keys: pending.join(', ') })}
        </Notice>
      ) : null}
      <div class="grid2">
        <Card title={t('settings:raw.keys')} testId="config-form">
          <input
            type="search"
            aria-label={t('settings:raw.filter')}
            placeholder={t('settings:raw.filter')}
            value={filter}
            onInput={(e) => setFilter(e.currentTarget.value)}
          />
          {sections.map((sec) => {
            const fs = fields.filter(
              (f) =>
                f.key.split('.')[0] === sec &&
                (filter === '' ||
                  f.key.toLowerCase().includes(filter.toLowerCase()) ||
                  f.description.toLowerCase().includes(filter.toLowerCase())),
            );
            if (fs.length === 0) return null;
            return (
              <fieldset key={sec}>
                <legend>{sec}</legend>
                {fs.map((f) => {
                  const current = toText(f, getPath(cfg, f.key));
                  const value = edits[f.key] ?? current;
                  const set = (v: string) => setEdits((e) => ({ ...e, [f.key]: v }));
                  const disabled = !canEdit || !f.editable;
                  const hint = f.live ? f.description : `${f.description} · ${t('settings:needsRestart')}`;
                  return (
                    <Field key={f.key} label={f.key} hint={hint}>
                      {f.type === 'boolean' ? (
                        <select name={f.key} disabled={disabled} value={value} onChange={(e) => set(e.currentTarget.value)}>
                          <option value="true">true</option>
                          <option value="false">false</option>
                        </select>
                      ) : f.type === 'enum' ? (
                        <select name={f.key} disabled={disabled} value={value} onChange={(e) => set(e.currentTarget.value)}>
                          {(f.enum ?? []).map((o) => (
                            <option key={String(o)} value={String(o)}>
                              {String(o)}
                            </option>
                          ))}
                        </select>
                      ) : f.type === 'array' ? (
                        <textarea
                          name={f.key}
                          rows={Math.min(6, Math.max(2, value.split('\n').length))}
                          disabled={disabled}
                          value={value}
                          onInput={(e) => set(e.currentTarget.value)}
                        />
                      ) : f.secret ? (
                        <input name={f.key} type="password" disabled={disabled} value={value} onInput={(e) => set(e.currentTarget.value)} />
                      ) : f.type === 'integer' || f.type === 'number' ? (
                        <input name={f.key} type="number" disabled={disabled} value={value} onInput={(e) => set(e.currentTarget.value)} />
                      ) : (
                        <input name={f.key} type="text" disabled={disabled} value={value} onInput={(e) => set(e.currentTarget.value)} />
                      )}
                    </Field>
                  );
                })}
              </fieldset>
            );
          })}
          {canEdit ? (
            <div class="sticky">
              <Field label={t('settings:comment')}>
                <input name="config-comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
              </Field>
              <ActionButton testId="config-save" onClick={save}>
                {Object.keys(edits).length ? t('settings:saveN', { count: Object.keys(edits).length }) : t('settings:save')}
              </ActionButton>
            </div>
          ) : null}
          {result ? (
            <Notice kind={result.kind} testId="config-result">
              {result.text}
              {result.changes ? <Changes changes={result.changes} /> : null}
            </Notice>
          ) : null}
        </Card>
        <div>
          <Card title={t('settings:raw.versions')} testId="config-versions">
            <table class="table">
              <tbody>
                {versions.map((v) => (
                  <tr key={v.version} data-testid="config-version">
                    <td>v{v.version}</td>
                    <td>{fmtTime(v.createdAt)}</td>
                    <td>{v.author.replace(/^console:/, '')}</td>
                    <td class="muted">{v.comment}</td>
                    <td>
                      <button
                        class="btn secondary small"
                        data-testid={`diff-${v.version}`}
                        onClick={() => void get(`/api/v1/config/diff?from=${v.version}`).then(setDiff)}
                      >
                        {t('settings:raw.diff')}
                      </button>
                      {canEdit && v.version !== version ? (
                        <ActionButton
                          kind="danger"
                          testId={`rollback-${v.version}`}
                          onClick={async () => {
                            try {
                              const r = await post('/api/v1/config/rollback', { version: v.version });
                              setResult({
                                kind: 'ok',
                                text: t('settings:raw.rolledBack', { version: v.version, saved: r.version }),
                                changes: r.changes,
                              });
                              await load();
                            } catch (err) {
                              setResult({ kind: 'error', text: errorText(err) });
                            }
                          }}
                        >
                          {t('settings:raw.rollBack')}
                        </ActionButton>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {diff ? (
              <div data-testid="config-diff">
                <h3>{t('settings:raw.diffTitle', { from: diff.from, to: diff.to })}</h3>
                {diff.changes.length === 0 ? <p>{t('settings:raw.noDiff')}</p> : <Changes changes={diff.changes} />}
              </div>
            ) : null}
          </Card>
          {canEdit ? (
            <>
              <Card title={t('settings:raw.backup')} testId="backup">
                <BackupExport />
                <h3>{t('settings:raw.restore')}</h3>
                <BackupRestore onRestored={() => setTimeout(() => location.reload(), 1500)} />
              </Card>
              <TlsCard />
              <Card title={t('settings:accounts.usersTitle')} testId="users">
                <a href="#/settings/accounts">{t('settings:raw.accountsMoved')}</a>
              </Card>
            </>
          ) : null}
        </div>
      </div>
    </div>
  );
}

function Changes({ changes }: { changes: { key: string; from: unknown; to: unknown; live: boolean }[] }) {
  return (
    <table class="table diff">
      <tbody>
        {changes.map((c) => (
          <tr key={c.key} data-testid="diff-row">
            <td>
              <code>{c.key}</code>
            </td>
            <td class="from">{JSON.stringify(c.from)}</td>
            <td aria-hidden="true">{t('settings:raw.arrow')}</td>
            <td class="to">{JSON.stringify(c.to)}</td>
            <td>{c.live ? t('settings:raw.live') : t('settings:raw.restartCol')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TlsCard() {
  const [info, setInfo] = useState<any>(null);
  const [cert, setCert] = useState('');
  const [key, setKey] = useState('');
  const [msg, setMsg] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  useEffect(() => void get('/api/v1/tls').then(setInfo), []);
  return (
    <Card title={t('settings:raw.tlsTitle')} testId="tls">
      {info?.certificate ? (
        <dl>
          <dt>{t('settings:raw.subject')}</dt>
          <dd>{info.certificate.subject}</dd>
          <dt>{t('settings:raw.validUntil')}</dt>
          <dd>{fmtTime(Date.parse(info.certificate.validTo))}</dd>
          <dt>{t('settings:raw.sha256')}</dt>
          <dd>
            <code class="wrap">{info.certificate.fingerprint256}</code>
          </dd>
          <dt>{t('settings:raw.selfSigned')}</dt>
          <dd>{info.certificate.selfSigned ? t('settings:raw.yes') : t('settings:raw.no')}</dd>
          <dt>{t('settings:raw.httpsPort')}</dt>
          <dd>{info.httpsPort ?? t('settings:raw.off')}</dd>
        </dl>
      ) : (
        <p>{t('settings:raw.noCert')}</p>
      )}
      <Field label={t('settings:raw.certPem')}>
        <textarea name="tls-cert" rows={3} value={cert} onInput={(e) => setCert(e.currentTarget.value)} />
      </Field>
      <Field label={t('settings:raw.keyPem')}>
        <textarea name="tls-key" rows={3} value={key} onInput={(e) => setKey(e.currentTarget.value)} />
      </Field>
      <ActionButton
        onClick={async () => {
          try {
            const r = await api('PUT', '/api/v1/tls', { cert, key });
            setInfo({ ...info, certificate: r.certificate });
            setMsg({ kind: 'ok', text: t('settings:raw.certReplaced') });
          } catch (err) {
            setMsg({ kind: 'error', text: errorText(err) });
          }
        }}
      >
        {t('settings:raw.uploadCert')}
      </ActionButton>
      {msg ? <Notice kind={msg.kind}>{msg.text}</Notice> : null}
    </Card>
  );
}
