/**
 * Churn risk and tags of a customer over all channels: the caller profiles of their verified numbers
 * plus their linked chats and e-mail cases. A chat or e-mail counts as a contact like a call, repeats
 * an intent like a call does, and a negative one as the latest contact weighs like an angry call.
 */
import {
  churnRisk,
  profileTags,
  recentCallCount,
  type CallerProfile,
  type ChurnFactor,
  type ProfileSettings,
} from '../profiles/profile.js';
import type { TimelineEntry } from './timeline.js';

export interface CustomerChurn {
  readonly churnRisk: number;
  readonly churnFactors: ChurnFactor[];
  readonly tags: string[];
  readonly unresolvedRepeats: number;
  readonly contactsInWindow: number;
}

export function customerChurn(
  profiles: readonly CallerProfile[],
  timeline: readonly TimelineEntry[],
  nowMs: number,
  s: ProfileSettings,
  churnThreshold = 0.6,
): CustomerChurn {
  const texts = timeline.filter((e) => e.channel !== 'call' && nowMs - e.at <= s.windowMs).sort((a, b) => a.at - b.at);
  const calls = profiles.reduce((n, p) => n + recentCallCount(p, nowMs, s), 0);
  // a text contact about an intent the customer already raised (call or text) within the repeat window
  const seen = profiles.flatMap((p) => p.lastIntents.map((x) => ({ intent: x.intent, at: x.at })));
  let textRepeats = 0;
  for (const t of texts) {
    if (t.intent === null) continue;
    if (seen.some((x) => x.intent === t.intent && x.at < t.at && t.at - x.at <= s.repeatWindowMs)) textRepeats++;
    seen.push({ intent: t.intent, at: t.at });
  }
  const unresolvedRepeats = profiles.reduce((n, p) => n + p.unresolvedRepeats, 0) + textRepeats;
  const lastCaller = [...profiles].sort((a, b) => b.lastCallAt - a.lastCallAt)[0];
  const lastText = texts.at(-1);
  const textIsLatest = lastText !== undefined && lastText.at > (lastCaller?.lastCallAt ?? 0);
  const negativeText = textIsLatest && lastText.mood === 'negative' ? (lastText.channel as 'chat' | 'email') : null;
  const lastEmotion = lastCaller?.lastEmotion ?? null;
  const leaving =
    profiles.some((p) => p.lastIntents.some((x) => s.leavingIntents.includes(x.intent))) ||
    texts.some((t) => t.intent !== null && s.leavingIntents.includes(t.intent));
  const churn = churnRisk({
    callsInWindow: calls,
    unresolvedRepeats,
    lastEmotion,
    wasAngry: lastEmotion?.category === 'angry',
    leavingIntent: leaving,
    textContactsInWindow: texts.length,
    negativeText,
  });
  const tags = new Set<string>();
  for (const p of profiles) for (const t of profileTags(p, nowMs, s, churnThreshold)) if (t !== 'churn-risk') tags.add(t);
  if (calls + texts.length >= s.frequentCallerCalls) tags.add('frequent-contact');
  if (unresolvedRepeats > 0) tags.add('repeat-unresolved');
  if (negativeText !== null) tags.add(`negative-last-${negativeText}`);
  if (churn.score >= churnThreshold) tags.add('churn-risk');
  return {
    churnRisk: churn.score,
    churnFactors: churn.factors,
    tags: [...tags],
    unresolvedRepeats,
    contactsInWindow: calls + texts.length,
  };
}
