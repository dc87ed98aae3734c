// The appliance's configuration issues (400 EVX_ERR_CONFIG_INVALID, error.details.issues: key,
// code, params, a plain English message) as a screen shows them: picked out per field by key, and
// said in the page's language — the wizard catalogue's text for the code (and its reason) with the
// issue's params, else the appliance's own English sentence.
import { ApiError } from './api.js';
import { currentLanguage, t } from '../../i18n/i18n.js';

export interface ConfigIssue {
  key: string;
  code: string;
  message: string;
  params?: Record<string, string | number>;
}

/** The issues an error carries, or null when it is not a configuration refusal with issues. */
export function issuesOf(err: unknown): ConfigIssue[] | null {
  if (!(err instanceof ApiError) || err.code !== 'EVX_ERR_CONFIG_INVALID') return null;
  const issues = err.details['issues'];
  if (!Array.isArray(issues)) return null;
  return issues.filter(
    (i): i is ConfigIssue =>
      i !== null && typeof i === 'object' && typeof (i as ConfigIssue).key === 'string' && typeof (i as ConfigIssue).message === 'string',
  );
}

/** The issues about `key` or anything under it (a list's entries are `key.0`, `key.1`, ...). */
export function issuesUnder(issues: readonly ConfigIssue[], key: string): ConfigIssue[] {
  return issues.filter((i) => i.key === key || i.key.startsWith(`${key}.`));
}

/** One issue in the page's language. English is the appliance's own sentence. */
export function issueText(issue: ConfigIssue): string {
  if (currentLanguage() === 'en') return issue.message;
  const vars = { ...(issue.params ?? {}), defaultValue: '' };
  const reason = issue.params?.['reason'];
  const specific = typeof reason === 'string' ? t(`wizard:issue.${issue.code}.${reason}`, vars) : '';
  if (specific !== '') return specific;
  const general = t(`wizard:issue.${issue.code}.any`, vars);
  return general !== '' ? general : issue.message;
}
