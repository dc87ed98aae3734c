// Words of the settings pages that come from the schema: a key's label and help, and a validation
// issue in the page's language (catalogue by issue code, else the server's English sentence).
import { currentLanguage, t } from '../../../i18n/i18n.js';
import { humanLabel, type Issue } from './model.js';

/** A key's label: the catalogue's name for it (settings:field.<key with dots as _>), else words from the key. */
export function fieldLabel(key: string): string {
  const generic = key.replace(/\.\d+\./g, '.*.');
  return t(`settings:field.${generic.replace(/\./g, '_')}`, { defaultValue: humanLabel(key) });
}

/** A key's help: the schema's description, or the catalogue's translation of it in another language. */
export function fieldHelp(key: string, description: string): string {
  if (currentLanguage() === 'en' || description === '') return description;
  const generic = key.replace(/\.\d+\./g, '.*.');
  return t(`settings:help.${generic.replace(/\./g, '_')}`, { defaultValue: description });
}

/** An issue in the page's language: the server's sentence in English, else the catalogue's by code with its params. */
export function issueText(issue: Issue): string {
  if (currentLanguage() === 'en') return issue.message;
  return t(`settings:issue.${issue.code}`, { ...(issue.params ?? {}), field: fieldLabel(issue.key), defaultValue: issue.message });
}
