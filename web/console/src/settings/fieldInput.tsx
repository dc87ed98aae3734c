// One setting as a labelled input of the right kind, its help from the schema, and the server's
// issues about it shown beside it (aria-invalid, aria-describedby).
import { fmtNumber, t } from '../../../i18n/i18n.js';
import { choicesOf, errorId, kindOf, numberOf, textOf, type Issue, type SchemaNode } from './model.js';
import { fieldHelp, fieldLabel, issueText } from './text.js';

export interface FieldProps {
  /** The full key, e.g. sip.trunks.0.host. */
  path: string;
  spec: {
    type?: string;
    enum?: unknown[];
    anyOf?: { const?: unknown }[];
    items?: SchemaNode;
    minimum?: number;
    maximum?: number;
    secret?: boolean;
  };
  description: string;
  value: unknown;
  issues: readonly Issue[];
  disabled: boolean;
  onChange: (v: unknown) => void;
  onBlur?: () => void;
  /** Extra help, e.g. "needs a restart". */
  note?: string;
  /** The value may be unset (a select then offers "not set", whose value is ''). */
  optional?: boolean;
}

/** The error text beside a field, or nothing. */
export function FieldIssues({ path, issues }: { path: string; issues: readonly Issue[] }) {
  if (issues.length === 0) return null;
  return (
    <span class="field-error" id={errorId(path)} data-testid={`issue-${path}`}>
      {issues.map((i) => issueText(i)).join(' ')}
    </span>
  );
}

export function SettingField(props: FieldProps) {
  const kind = kindOf(props.spec);
  const helpId = `${errorId(props.path)}-help`;
  const invalid = props.issues.length > 0;
  const describedBy =
    [props.description || props.note ? helpId : '', invalid ? errorId(props.path) : ''].filter(Boolean).join(' ') || undefined;
  const inputId = `input-${errorId(props.path)}`;
  const aria = { id: inputId, 'aria-invalid': invalid ? ('true' as const) : undefined, 'aria-describedby': describedBy };
  const help = [fieldHelp(props.path, props.description), props.note].filter(Boolean).join(' · ');
  const label = fieldLabel(props.path);
  const name = props.path;
  if (kind === 'rows') return null;
  if (kind === 'choices') {
    const chosen = Array.isArray(props.value) ? props.value.map(String) : [];
    return (
      <fieldset
        class={`field choices${invalid ? ' invalid' : ''}`}
        data-testid={`field-${props.path}`}
        aria-invalid={aria['aria-invalid']}
        aria-describedby={describedBy}
      >
        <legend class="label">{label}</legend>
        {choicesOf(props.spec).map((c) => (
          <label key={c} class="choice">
            <input
              type="checkbox"
              name={`${name}.${c}`}
              checked={chosen.includes(c)}
              disabled={props.disabled}
              onChange={(e) => props.onChange(e.currentTarget.checked ? [...chosen, c] : chosen.filter((x) => x !== c))}
              onBlur={props.onBlur}
            />
            <span>{c}</span>
          </label>
        ))}
        {help ? (
          <span class="hint" id={helpId}>
            {help}
          </span>
        ) : null}
        <FieldIssues path={props.path} issues={props.issues} />
      </fieldset>
    );
  }
  let input;
  if (kind === 'toggle')
    input = (
      <input
        type="checkbox"
        role="switch"
        name={name}
        checked={props.value === true}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.currentTarget.checked)}
        onBlur={props.onBlur}
        {...aria}
      />
    );
  else if (kind === 'select')
    input = (
      <select
        name={name}
        value={textOf(props.value)}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.currentTarget.value)}
        onBlur={props.onBlur}
        {...aria}
      >
        {props.optional ? <option value="">{t('settings:notSet')}</option> : null}
        {choicesOf(props.spec).map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    );
  else if (kind === 'lines')
    input = (
      <textarea
        name={name}
        rows={Math.min(8, Math.max(2, textOf(props.value).split('\n').length + 1))}
        value={textOf(props.value)}
        disabled={props.disabled}
        onInput={(e) => props.onChange(e.currentTarget.value)}
        onBlur={props.onBlur}
        {...aria}
      />
    );
  else {
    const common = {
      name,
      min: props.spec.minimum,
      max: props.spec.maximum,
      value: textOf(props.value),
      disabled: props.disabled,
      onInput: (e: { currentTarget: HTMLInputElement }) => props.onChange(e.currentTarget.value),
      onBlur: props.onBlur,
      ...aria,
    };
    input =
      kind === 'number' ? (
        <input type="number" inputMode="decimal" autocomplete="off" {...common} />
      ) : kind === 'secret' ? (
        <input type="password" autocomplete="new-password" {...common} />
      ) : (
        <input type="text" autocomplete="off" {...common} />
      );
  }
  const range =
    kind === 'number' && props.spec.minimum !== undefined && props.spec.maximum !== undefined
      ? t('settings:range', { min: fmtNumber(props.spec.minimum), max: fmtNumber(props.spec.maximum) })
      : '';
  return (
    <div class={`field setting${kind === 'toggle' ? ' toggle' : ''}${invalid ? ' invalid' : ''}`} data-testid={`field-${props.path}`}>
      <label class="label" for={inputId}>
        {label}
      </label>
      {input}
      {help || range ? (
        <span class="hint" id={helpId}>
          {[help, range].filter(Boolean).join(' · ')}
        </span>
      ) : null}
      <FieldIssues path={props.path} issues={props.issues} />
    </div>
  );
}

/** For number inputs inside rows: text kept while typing, numbers saved. */
export const rowValue = (kind: string, text: string): unknown => (kind === 'number' ? numberOf(text) : text);
