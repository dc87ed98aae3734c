// A list of objects (SIP trunks, SIP accounts) as rows of labelled fields: add, edit, remove; an
// optional part of a row (a trunk's registration) is switched on and off as a whole.
import { fmtNumber, t } from '../../../i18n/i18n.js';
import { FieldIssues, SettingField } from './fieldInput.js';
import { issuesAt, kindOf, numberOf, textOf, toInput, type Issue, type SchemaNode } from './model.js';
import { fieldHelp, fieldLabel } from './text.js';

type Row = Record<string, unknown>;

/** A new object with every field at its default (optional parts left out). */
export function defaultsOf(schema: SchemaNode): Row {
  const out: Row = {};
  for (const [k, s] of Object.entries(schema.properties ?? {})) {
    const optional = !(schema.required ?? []).includes(k);
    // an optional part, or an optional value without a default (a trunk's language): left out until set
    if (optional && (s.type === 'object' || s.default === undefined)) continue;
    out[k] =
      s.type === 'object'
        ? defaultsOf(s)
        : (s.default ?? (s.type === 'integer' || s.type === 'number' ? 0 : s.type === 'boolean' ? false : ''));
  }
  return out;
}

function ObjectFields(props: {
  path: string;
  schema: SchemaNode;
  value: Row;
  issues: readonly Issue[];
  disabled: boolean;
  onChange: (v: Row) => void;
  onBlur?: () => void;
}) {
  return (
    <>
      {Object.entries(props.schema.properties ?? {}).map(([k, s]) => {
        const path = `${props.path}.${k}`;
        const v = props.value[k];
        if (s.type === 'object') {
          const optional = !(props.schema.required ?? []).includes(k);
          const on = v !== undefined && v !== null;
          return (
            <fieldset key={k} class="subrow">
              <legend>{fieldLabel(path)}</legend>
              {optional ? (
                <label class="choice">
                  <input
                    type="checkbox"
                    name={`${path}.use`}
                    checked={on}
                    disabled={props.disabled}
                    onChange={(e) => {
                      const next = { ...props.value };
                      if (e.currentTarget.checked) next[k] = defaultsOf(s);
                      else delete next[k];
                      props.onChange(next);
                    }}
                  />
                  <span>{t('settings:use', { what: fieldLabel(path) })}</span>
                </label>
              ) : null}
              {s.description ? <span class="hint">{fieldHelp(path, s.description)}</span> : null}
              {on ? (
                <ObjectFields
                  path={path}
                  schema={s}
                  value={v as Row}
                  issues={props.issues}
                  disabled={props.disabled}
                  onChange={(nv) => props.onChange({ ...props.value, [k]: nv })}
                  onBlur={props.onBlur}
                />
              ) : null}
            </fieldset>
          );
        }
        const kind = kindOf(s);
        if (kind === 'rows') return null;
        // an optional value without a default may be unset: '' leaves it out of the row
        const unsettable = !(props.schema.required ?? []).includes(k) && s.default === undefined;
        return (
          <SettingField
            key={k}
            path={path}
            optional={unsettable}
            spec={{ ...s, secret: /password|secret/i.test(k) }}
            description={s.description ?? ''}
            value={toInput(kind, v)}
            issues={issuesAt(props.issues, path)}
            disabled={props.disabled}
            onBlur={props.onBlur}
            onChange={(nv) => {
              if (unsettable && nv === '') {
                const next = { ...props.value };
                delete next[k];
                props.onChange(next);
                return;
              }
              props.onChange({
                ...props.value,
                [k]:
                  kind === 'number'
                    ? numberOf(textOf(nv))
                    : kind === 'lines'
                      ? textOf(nv)
                          .split('\n')
                          .map((x) => x.trim())
                          .filter(Boolean)
                      : nv,
              });
            }}
          />
        );
      })}
    </>
  );
}

export function RowsField(props: {
  path: string;
  items: SchemaNode;
  description: string;
  value: unknown;
  issues: readonly Issue[];
  disabled: boolean;
  onChange: (v: Row[]) => void;
  onBlur?: () => void;
}) {
  const rows = Array.isArray(props.value) ? (props.value as Row[]) : [];
  const own = props.issues.filter((i) => i.key === props.path);
  return (
    <fieldset class="field rows" data-testid={`field-${props.path}`}>
      <legend class="label">{fieldLabel(props.path)}</legend>
      {props.description ? <span class="hint">{fieldHelp(props.path, props.description)}</span> : null}
      {rows.length === 0 ? <p class="muted">{t('settings:noRows')}</p> : null}
      {rows.map((r, i) => (
        <fieldset key={i} class="row-item" data-testid={`row-${props.path}-${i}`}>
          <legend>{t('settings:rowN', { n: fmtNumber(i + 1) })}</legend>
          <ObjectFields
            path={`${props.path}.${i}`}
            schema={props.items}
            value={r}
            issues={props.issues}
            disabled={props.disabled}
            onBlur={props.onBlur}
            onChange={(nv) => props.onChange(rows.map((x, j) => (j === i ? nv : x)))}
          />
          {props.disabled ? null : (
            <button type="button" class="btn secondary small" onClick={() => props.onChange(rows.filter((_, j) => j !== i))}>
              {t('settings:removeRow', { n: fmtNumber(i + 1) })}
            </button>
          )}
        </fieldset>
      ))}
      {props.disabled ? null : (
        <button
          type="button"
          class="btn secondary small"
          data-testid={`add-${props.path}`}
          onClick={() => props.onChange([...rows, defaultsOf(props.items)])}
        >
          {t('settings:addRow')}
        </button>
      )}
      <FieldIssues path={props.path} issues={own} />
    </fieldset>
  );
}
