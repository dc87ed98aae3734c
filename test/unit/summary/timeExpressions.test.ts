/** Time expressions in English and Mandarin sentences, described relative to the call. */
import { describe, expect, it } from 'vitest';
import { findTimeExpressions, zhNumber } from '../../../appliance/summary/timeExpressions.js';

const rel = (text: string, lang: 'en' | 'zh' = 'en') => findTimeExpressions(text, lang).map((t) => t.relative);

describe('English time expressions', () => {
  it.each([
    ["Yes, I'll call you back tomorrow by 5pm with an update.", ['tomorrow by 17:00']],
    ['The disputes team will contact you within 10 working days with the result.', ['within 10 working days']],
    ['If it is still there on Friday I will refund it.', ['on friday']],
    ['The engineer will come on Thursday between 8am and 1pm.', ['thursday 08:00-13:00']],
    ['They will come back to you within 48 hours by email.', ['within 48 hours']],
    ["If it hasn't arrived in two hours, call us back.", ['in 2 hours']],
    ['It should arrive within 3 to 5 working days.', ['within 3-5 working days']],
    ['We will email you by Wednesday.', ['by wednesday']],
    ['I will sort it out by the end of the day.', ['by end of day']],
    ['Expect a reply within twenty-four business days.', ['within 24 working days']],
    ['I can call you at 3:30 pm tomorrow.', ['tomorrow at 15:30']],
    ['Someone will ring you next week.', ['next week']],
  ])('%s', (text, expected) => {
    expect(rel(text)).toEqual(expected);
  });

  it('finds none in a sentence without a time, and keeps the words as said', () => {
    expect(rel('I have cancelled the card ending 4417.')).toEqual([]);
    expect(rel('Can I get my money back?')).toEqual([]);
    expect(findTimeExpressions('call you back tomorrow by 5pm')[0]!.text).toBe('tomorrow by 5pm');
  });
});

describe('Mandarin time expressions', () => {
  it.each([
    ['款项会在三个工作日内退回到您的卡上。', ['within 3 working days']],
    ['我会在明天下午五点前给您回电话告诉您结果。', ['tomorrow by 17:00']],
    ['下周三之前会有人联系您。', ['by wednesday']],
    ['我们会在24小时内处理。', ['within 24 hours']],
    ['工程师星期五上午十点上门。', ['on friday', 'at 10:00']],
    ['明天给您回电。', ['tomorrow']],
    ['三到五个工作日内寄到。', ['within 3-5 working days']],
  ])('%s', (text, expected) => {
    expect(rel(text, 'zh')).toEqual(expected);
  });

  it('reads Chinese numerals', () => {
    expect([zhNumber('十五'), zhNumber('二十四'), zhNumber('两'), zhNumber('48'), zhNumber('一百零八')]).toEqual([15, 24, 2, 48, 108]);
  });
});
