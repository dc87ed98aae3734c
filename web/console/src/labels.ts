// Names of the values the server sends as codes (agent states, away reasons, emotion categories and
// trends, call end reasons) in the page's language; a value the catalogue does not know is shown as sent.
import { t } from '../../i18n/i18n.js';

/** An agent state ('available', 'away', ...), with the away reason when there is one. */
export function agentStateText(state: string, reason?: string | null): string {
  const name = t(`agents:state.${state}`, { defaultValue: state });
  return reason ? t('agents:stateWithReason', { state: name, reason: awayReasonText(reason) }) : name;
}

export function awayReasonText(reason: string): string {
  return t(`agents:away.${reason}`, { defaultValue: reason });
}

/** An emotion category, with the call's trend when known ('escalating', 'calming', 'steady'). */
export function emotionText(category: string, trend?: string | null): string {
  const name = t(`live:emotion.${category}`, { defaultValue: category });
  if (!trend || trend === 'unknown') return name;
  return t('live:emotionWithTrend', { emotion: name, trend: t(`live:trend.${trend}`, { defaultValue: trend }) });
}

/** Why a call ended ('hangup', 'caller-bye', ...). */
export function endReasonText(reason: string | null | undefined): string {
  if (!reason) return '—';
  return t(`history:endReasonOf.${reason}`, { defaultValue: reason });
}

/** A call's speech language: the one spoken, else (auto, not decided yet) what it asked for. */
export function languageText(language: string | null | undefined, choice?: string | null): string {
  if (language) return t(`common:speechLanguage.${language}`, { defaultValue: language });
  if (choice === 'auto') return t('common:speechLanguage.undecided');
  return '—';
}

/** The language filter's choices (the server's `?language=`): every language, English, Mandarin. */
export const LANGUAGE_FILTERS = ['', 'en', 'zh'] as const;

export function languageFilterText(value: string): string {
  return value === '' ? t('common:speechLanguage.all') : languageText(value);
}
