// One settings page's configuration keys as a form: saved in one PATCH (one configuration version),
// checked on leaving a field through the dry-run validation route, and every issue the server finds
// shown beside its field.
import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import { ActionButton, Field, Notice, errorText } from '../ui.js';
import { t } from '../../../i18n/i18n.js';
import { SettingField } from './fieldInput.js';
import { RowsField } from './rowsField.js';
import { fromInput, getPath, issuesAt, issuesOf, kindOf, toInput, type FieldSpec, type Issue } from './model.js';
import { fieldLabel, issueText } from './text.js';

/** The dry-run route: validates changes without saving (404 on a box without it: then only saving checks). */
export const VALIDATE_ROUTE = '/api/v1/config/validate';

let validateMissing = false;

export function ConfigForm(props: {
  fields: FieldSpec[];
  config: unknown;
  canEdit: boolean;
  onSaved: () => Promise<void>;
  testId: string;
}) {
  const [draft, setDraft] = useState<Record<string, unknown>>({});
  const [issues, setIssues] = useState<Issue[]>([]);
  const [comment, setComment] = useState('');
  const [result, setResult] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  const changes = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(draft)) {
      const spec = props.fields.find((f) => f.key === key);
      if (spec) out[key] = fromInput(kindOf(spec), v);
    }
    return out;
  };
  const shown = (errs: Issue[]) => {
    setIssues(errs);
    // issues about keys this page does not show still need saying
    const elsewhere = errs.filter((i) => !props.fields.some((f) => issuesAt([i], f.key).length > 0));
    return elsewhere;
  };

  const validate = async () => {
    const c = changes();
    if (validateMissing || Object.keys(c).length === 0) return;
    try {
      const r = await api<Record<string, unknown>>('POST', VALIDATE_ROUTE, { changes: c });
      shown(issuesOf(r, ''));
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) validateMissing = true;
      else if (err instanceof ApiError && err.status === 400) shown(issuesOf(err.details, err.message));
    }
  };

  const save = async () => {
    setResult(null);
    const c = changes();
    if (Object.keys(c).length === 0) return setResult({ kind: 'error', text: t('settings:nothingChanged') });
    try {
      const r = await api<{ version: number; restartRequired: string[] }>('PATCH', '/api/v1/config', { changes: c, comment });
      setIssues([]);
      setDraft({});
      setComment('');
      setResult({
        kind: 'ok',
        text: r.restartRequired.length
          ? t('settings:savedRestart', { version: r.version, keys: r.restartRequired.map(fieldLabel).join(', ') })
          : t('settings:saved', { version: r.version }),
      });
      await props.onSaved();
    } catch (err) {
      const errs = err instanceof ApiError ? issuesOf(err.details, err.message) : [];
      const elsewhere = shown(errs);
      setResult({
        kind: 'error',
        text:
          errs.length === 0
            ? errorText(err)
            : [t('settings:notSaved', { count: errs.length }), ...elsewhere.map((i) => `${i.key}: ${issueText(i)}`)].join(' '),
      });
    }
  };

  return (
    <form
      class="settings-form"
      data-testid={props.testId}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      {props.fields.map((f) => {
        const kind = kindOf(f);
        const value = f.key in draft ? draft[f.key] : toInput(kind, getPath(props.config, f.key));
        const set = (v: unknown) => setDraft((d) => ({ ...d, [f.key]: v }));
        const disabled = !props.canEdit || !f.editable;
        const note = f.live ? '' : t('settings:needsRestart');
        if (kind === 'rows')
          return (
            <RowsField
              key={f.key}
              path={f.key}
              items={f.items ?? {}}
              description={f.description}
              value={value}
              issues={issuesAt(issues, f.key)}
              disabled={disabled}
              onChange={set}
              onBlur={() => void validate()}
            />
          );
        return (
          <SettingField
            key={f.key}
            path={f.key}
            spec={f}
            description={f.description}
            note={note}
            value={value}
            issues={issuesAt(issues, f.key)}
            disabled={disabled}
            onChange={set}
            onBlur={() => void validate()}
          />
        );
      })}
      {props.canEdit ? (
        <div class="sticky">
          <Field label={t('settings:comment')}>
            <input name="settings-comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          </Field>
          <ActionButton testId="settings-save" type="submit" onClick={save}>
            {Object.keys(draft).length ? t('settings:saveN', { count: Object.keys(draft).length }) : t('settings:save')}
          </ActionButton>
        </div>
      ) : null}
      {result ? (
        <Notice kind={result.kind} testId="settings-result">
          {result.text}
        </Notice>
      ) : null}
    </form>
  );
}
