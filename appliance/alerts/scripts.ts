/**
 * De-escalation scripts suggested with caller alerts. Sites add their own through the routing API
 * (`/api/v1/routing/scripts`); the built-in ones below apply when none of the site's scripts match.
 */
import type { Script } from '../routing/schemas.js';

export const BUILTIN_SCRIPTS: readonly Script[] = [
  {
    id: 'builtin-angry',
    title: 'Angry caller',
    when: { alertKinds: ['caller_angry'] },
    steps: [
      'Let the caller finish; do not interrupt or correct them yet.',
      'Acknowledge the feeling and the problem in your own words ("I can hear this has been really frustrating, and the card still has not arrived").',
      'Apologise for the experience, without blaming a colleague or a system.',
      'Take ownership: say what you will do now, and do it while they are on the line where you can.',
      'Agree the next step and a time, and confirm how they will hear back.',
    ],
  },
  {
    id: 'builtin-escalating',
    title: 'Caller getting more upset',
    when: { alertKinds: ['caller_escalating'] },
    steps: [
      'Slow down and lower your voice a little; keep sentences short.',
      'Summarise what the caller has told you so far and ask if you have it right.',
      'Offer one concrete option rather than a list of policies.',
      'If the caller asks for a supervisor, say you will get one and do not argue.',
    ],
  },
];

/**
 * The script for an alert: the most specific matching site script (one naming the intent beats one
 * naming the group beats a general one), else the built-in one for the alert kind.
 */
export function selectScript(
  scripts: readonly Script[],
  ctx: { kind: string; groupId: string | null; intent: string | null },
): Script | null {
  let best: { s: Script; score: number } | null = null;
  for (const s of scripts) {
    if (!s.when.alertKinds.includes(ctx.kind)) continue;
    if (s.when.groups !== undefined && (ctx.groupId === null || !s.when.groups.includes(ctx.groupId))) continue;
    if (s.when.intents !== undefined && (ctx.intent === null || !s.when.intents.includes(ctx.intent))) continue;
    const score = (s.when.intents !== undefined ? 2 : 0) + (s.when.groups !== undefined ? 1 : 0);
    if (best === null || score > best.score) best = { s, score };
  }
  return best?.s ?? BUILTIN_SCRIPTS.find((s) => s.when.alertKinds.includes(ctx.kind)) ?? null;
}
