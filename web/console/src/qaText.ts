// Words of the QA screens shared by the calls' and the conversations' views: a result, a rule's
// outcome and a score in the page's language.
import { fmtNumber, t } from '../../i18n/i18n.js';

export const resultText = (passed: boolean | null | undefined) =>
  passed === true ? t('qa:pass') : passed === false ? t('qa:fail') : t('qa:notScored');
export const outcomeText = (o: string) => t(`qa:outcome.${o}`, { defaultValue: o });
export const scoreText = (s: number | null | undefined) =>
  s === null || s === undefined ? '—' : fmtNumber(s, Number.isInteger(s) ? 0 : 1);
