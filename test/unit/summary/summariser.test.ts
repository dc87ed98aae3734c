/** Post-call summary: commitment cues, questions, outcome rules, follow-up items, English and Mandarin. */
import { describe, expect, it } from 'vitest';
import { commitmentOf, isAbandonCue, isQuestionOrRequest, isTransferCue } from '../../../appliance/summary/cues.js';
import { reasonFromZhText } from '../../../appliance/summary/reasonLexiconZh.js';
import { summariseCall, type SummaryUtterance } from '../../../appliance/summary/summariser.js';

type Turn = [speaker: 'caller' | 'agent', text: string, intent?: string];
const en = (turns: Turn[]): SummaryUtterance[] =>
  turns.map(([speaker, text, intent]) => ({
    speaker,
    text,
    language: 'en',
    intent: intent === undefined ? null : { intent, confidence: 0.8, outOfScope: false },
  }));
const zh = (turns: Turn[]): SummaryUtterance[] => turns.map(([speaker, text]) => ({ speaker, text, language: 'zh', intent: null }));
const facts = { language: null, transferred: false };

describe('commitment cues', () => {
  it.each([
    ['I have cancelled the card ending 4417.', 'done', 'agent'],
    ["I've ordered a replacement card to your home address.", 'done', 'agent'],
    ["I'll call you back tomorrow by 5pm.", 'promised', 'agent'],
    ['We will email you by Wednesday.', 'promised', 'agent'],
    ['The disputes team will contact you within 10 working days.', 'promised', 'other'],
    ["If it hasn't arrived in two hours, call us back and we will investigate.", 'promised', 'caller'],
  ] as const)('%s -> %s by %s', (sentence, kind, role) => {
    const c = commitmentOf(sentence, 'en');
    expect(c?.kind).toBe(kind);
    expect(c?.actor.role).toBe(role);
  });

  it('names the party that will act', () => {
    expect(commitmentOf('The disputes team will contact you within 10 working days.', 'en')?.actor.name).toBe('disputes team');
  });

  it.each([
    "I can't raise the limit over the phone.",
    'I will not resolve this today.',
    'Thank you for calling, how can I help?',
    'It will arrive by Saturday.',
    'Let me have a look at that.',
  ])('no commitment in: %s', (sentence) => {
    expect(commitmentOf(sentence, 'en')).toBeNull();
  });

  it.each([
    ['我已经帮您把卡片激活了，现在就可以使用。', 'done', 'agent'],
    ['可以，我已经帮您提交了查询申请。', 'done', 'agent'],
    ['我会在明天下午五点前给您回电话告诉您结果。', 'promised', 'agent'],
    ['如果三个工作日后还没有到账，您再拨打我们的热线。', 'promised', 'caller'],
  ] as const)('Mandarin: %s -> %s by %s', (sentence, kind, role) => {
    const c = commitmentOf(sentence, 'zh');
    expect(c?.kind).toBe(kind);
    expect(c?.actor.role).toBe(role);
  });

  it('Mandarin: someone else having done something, or a refusal, is not the agent committing', () => {
    expect(commitmentOf('我这边查到商户的退款已经提交，目前还在清算中。', 'zh')).toBeNull();
    expect(commitmentOf('这个我无法帮您办理。', 'zh')).toBeNull();
  });
});

describe('questions, transfers and abandonment', () => {
  it('finds questions and requests in both languages', () => {
    expect(isQuestionOrRequest('Can I get my money back?', 'en')).toBe(true);
    expect(isQuestionOrRequest('I want to close my account please.', 'en')).toBe(true);
    expect(isQuestionOrRequest('Yes, it is 2290.', 'en')).toBe(false);
    expect(isQuestionOrRequest('那要等多久啊？', 'zh')).toBe(true);
    expect(isQuestionOrRequest('能不能帮我催一下', 'zh')).toBe(true);
    expect(isQuestionOrRequest('好的，麻烦你了。', 'zh')).toBe(false);
  });
  it('finds transfer and abandonment cues', () => {
    expect(isTransferCue("I'm putting you through to them now, please hold.", 'en')).toBe(true);
    expect(isTransferCue('我现在为您转接到信用卡中心。', 'zh')).toBe(true);
    expect(isTransferCue('I can see the transfer left your account on Monday.', 'en')).toBe(false);
    expect(isAbandonCue("Forget it, I'll sort it out myself.", 'en')).toBe(true);
    expect(isAbandonCue('算了，不跟你说了。', 'zh')).toBe(true);
  });
  it('maps Mandarin banking phrases to BANKING77 reasons', () => {
    expect(reasonFromZhText('我的银行卡丢了，想挂失')).toBe('lost_or_stolen_card');
    expect(reasonFromZhText('我刚收到新的信用卡，不知道怎么激活。')).toBe('activate_my_card');
    expect(reasonFromZhText('我这个月话费怎么多扣了三十块？')).toBeNull();
  });
});

describe('summariseCall outcome rules', () => {
  const followUpCall = en([
    ['agent', 'Northbank, Sarah speaking, how can I help?'],
    ['caller', 'I sent money to my landlord on Monday and she still has not received it.', 'transfer_not_received_by_recipient'],
    ['agent', 'I will escalate it to our payments team now.'],
    ['caller', 'Will someone let me know?'],
    ['agent', "Yes, I'll call you back tomorrow by 5pm with an update."],
    ['caller', 'Okay, thanks.'],
  ]);

  it('a promise with a time is a follow-up with who and when', () => {
    const s = summariseCall(followUpCall, facts);
    expect(s.outcome).toBe('follow_up');
    expect(s.outcomeBasis).toBe('promise_with_time');
    expect(s.followUps).toEqual([
      expect.objectContaining({ who: { role: 'agent', name: 'agent' }, when: 'tomorrow by 17:00', whenSaid: 'tomorrow by 5pm' }),
    ]);
    expect(s.reason.intent).toBe('transfer_not_received_by_recipient');
    expect(s.asked).toContain('Will someone let me know?');
    expect(s.text).toContain('Agent will call the caller back tomorrow by 5pm');
    expect(s.text.endsWith('Follow-up needed.')).toBe(true);
  });

  it('a transfer on the call record wins over everything said', () => {
    expect(summariseCall(followUpCall, { language: 'en', transferred: true })).toMatchObject({
      outcome: 'transferred',
      outcomeBasis: 'transfer_record',
    });
  });

  it('an agent handing the caller over is a transfer without the record', () => {
    const s = summariseCall(
      en([
        ['caller', 'Hi, I want to close my account please.', 'terminate_account'],
        ['agent', 'Closing an account is handled by account services, I am transferring you now.'],
      ]),
      facts,
    );
    expect(s).toMatchObject({ outcome: 'transferred', outcomeBasis: 'transfer_cue' });
  });

  it('a caller giving up is unresolved even after an action', () => {
    const s = summariseCall(
      en([
        ['caller', 'My salary has not arrived in my balance.'],
        ['agent', 'I have checked and there is no incoming payment.'],
        ['caller', "Forget it, I'll sort it out myself."],
      ]),
      facts,
    );
    expect(s).toMatchObject({ outcome: 'unresolved', outcomeBasis: 'abandon_cue' });
  });

  it('an action done with no promise left is resolved; nothing done and no thanks is unresolved', () => {
    const done = summariseCall(
      en([
        ['caller', 'My card is blocked after three wrong PINs.', 'pin_blocked'],
        ['agent', 'I have unblocked the card, so you can use it again.'],
      ]),
      facts,
    );
    expect(done).toMatchObject({ outcome: 'resolved', outcomeBasis: 'action_done', followUps: [] });
    expect(done.actions[0]).toMatchObject({ kind: 'done', text: 'I have unblocked the card, so you can use it again.' });
    const nothing = summariseCall(
      en([
        ['caller', 'Why is my bill so high this month?'],
        ['agent', 'Let me look into that.'],
      ]),
      facts,
    );
    expect(nothing.outcome).toBe('unresolved');
  });

  it('an out-of-scope intent is no reason; the first substantive caller sentence is the reason text', () => {
    const s = summariseCall(
      [
        { speaker: 'caller', text: 'Hi.', language: 'en', intent: { intent: 'card_arrival', confidence: 0.1, outOfScope: true } },
        {
          speaker: 'caller',
          text: 'Hello, my internet drops out every evening.',
          language: 'en',
          intent: { intent: 'card_arrival', confidence: 0.12, outOfScope: true },
        },
      ],
      facts,
    );
    expect(s.reason).toEqual({ intent: null, confidence: null, source: null, text: 'My internet drops out every evening.' });
  });
});

describe('summariseCall in Mandarin', () => {
  it('reads the reason, the promise and its time, and writes the text in Chinese', () => {
    const s = summariseCall(
      zh([
        ['agent', '您好，北方银行客服，请问有什么可以帮您？'],
        ['caller', '你好，我昨天给我妈转了五千块钱，到现在她还没收到。'],
        ['agent', '好的，请问是跨行转账吗？'],
        ['caller', '对，转到农业银行的卡上。钱是不是丢了？'],
        ['agent', '可以，我已经帮您提交了查询申请，我会在明天下午五点前给您回电话告诉您结果。'],
        ['caller', '好的，麻烦你了。'],
      ]),
      { language: 'zh', transferred: false },
    );
    expect(s.language).toBe('zh');
    expect(s.reason).toMatchObject({ intent: 'transfer_not_received_by_recipient', source: 'lexicon' });
    expect(s.outcome).toBe('follow_up');
    expect(s.followUps).toEqual([
      expect.objectContaining({ who: { role: 'agent', name: '坐席' }, when: 'tomorrow by 17:00', whenSaid: '明天下午五点前' }),
    ]);
    expect(s.asked).toContain('钱是不是丢了？');
    expect(s.text.startsWith('客户来电：')).toBe(true);
    expect(s.text.endsWith('需跟进。')).toBe(true);
  });

  it('a caller hanging up in anger is unresolved', () => {
    const s = summariseCall(
      zh([
        ['caller', '我这个月话费怎么多扣了三十块？'],
        ['agent', '我帮您查一下，显示您开通了一个视频会员的增值业务。'],
        ['caller', '算了，不跟你说了。'],
      ]),
      { language: 'zh', transferred: false },
    );
    expect(s).toMatchObject({ outcome: 'unresolved', outcomeBasis: 'abandon_cue', reason: { intent: null } });
  });
});
