/**
 * A caller's spoken answer to a yes/no prompt (the callback offer: "... press one", or say yes),
 * from the final transcript of what they said while it listened. English words as the recogniser
 * writes them (upper case); an utterance with both a yes and a no word, or neither, is no answer.
 */
const YES = new Set(['YES', 'YEAH', 'YEP', 'YUP', 'SURE', 'OKAY', 'OK', 'CORRECT']);
const NO = new Set(['NO', 'NOPE', 'NAH']);

export type SpokenAnswer = 'yes' | 'no' | null;

export function spokenAnswer(text: string): SpokenAnswer {
  let yes = false;
  let no = false;
  for (const word of text.toUpperCase().split(/[^A-Z']+/)) {
    if (YES.has(word)) yes = true;
    else if (NO.has(word)) no = true;
  }
  return yes === no ? null : yes ? 'yes' : 'no';
}
