/**
 * A caller's spoken answer to a yes/no prompt (the callback offer: "... press one", or say yes),
 * from the final transcript of what they said while it listened. English words as the recogniser
 * writes them (upper case); an utterance with both a yes and a no word, or neither, is no answer.
 * A yes word after a negation ("not sure", "don't be sure") is not a yes: a callback is kept only
 * on a plain yes.
 */
const YES = new Set(['YES', 'YEAH', 'YEP', 'YUP', 'SURE', 'OKAY', 'OK', 'CORRECT']);
const NO = new Set(['NO', 'NOPE', 'NAH']);
const NEGATIONS = new Set(['NOT', "DON'T", 'DONT', "ISN'T", 'NEVER', "CAN'T", 'CANNOT']);

export type SpokenAnswer = 'yes' | 'no' | null;

export function spokenAnswer(text: string): SpokenAnswer {
  let yes = false;
  let no = false;
  let negated = false;
  for (const word of text.toUpperCase().split(/[^A-Z']+/)) {
    if (NEGATIONS.has(word)) negated = true;
    else if (YES.has(word)) {
      if (negated) return null;
      yes = true;
    } else if (NO.has(word)) no = true;
  }
  return yes === no ? null : yes ? 'yes' : 'no';
}
