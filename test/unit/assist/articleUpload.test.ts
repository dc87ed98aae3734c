import { describe, expect, it } from 'vitest';
import { MAX_KB_UPLOAD_BYTES, decodeUpload, guessLanguage, parseUpload, slugOf } from '../../../appliance/assist/articleUpload.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isEdgeVoxError(err)) return err.code;
    throw err;
  }
  return 'no error';
}

describe('knowledge uploads', () => {
  it('reads Markdown: front matter, title from the first heading, the rest as the body', () => {
    const [a] = parseUpload(
      utf8(
        '---\nid: lost-card\nintents: lost_or_stolen_card, compromised_card\ntags: cards\n---\n\n# Lost or stolen card\n\nFreeze it in the app.\n',
      ),
      {
        format: 'markdown',
      },
    );
    expect(a).toEqual({
      articleId: 'lost-card',
      title: 'Lost or stolen card',
      body: 'Freeze it in the app.',
      tags: ['cards'],
      intents: ['lost_or_stolen_card', 'compromised_card'],
      language: 'en',
      format: 'markdown',
    });
  });

  it('lets the upload fields win over front matter, and takes a plain text title from its first line', () => {
    const [a] = parseUpload(utf8('Card delivery\nIt takes a week.'), { format: 'text', intents: ['card_arrival'], language: 'en' });
    expect(a).toMatchObject({ articleId: 'card-delivery', title: 'Card delivery', body: 'It takes a week.', intents: ['card_arrival'] });
    const [b] = parseUpload(utf8('---\ntitle: From front matter\n---\nBody'), { format: 'markdown', title: 'Given' });
    expect(b).toMatchObject({ title: 'Given', body: '---\ntitle: From front matter\n---\nBody'.split('---\n').pop() });
  });

  it('guesses Chinese from Han characters and keeps a Chinese id', () => {
    const [a] = parseUpload(utf8('# 银行卡丢失\n\n请立即在应用中冻结您的银行卡。'), { format: 'markdown' });
    expect(a).toMatchObject({ language: 'zh', articleId: '银行卡丢失' });
    expect(guessLanguage('My card 卡')).toBe('en');
    expect(slugOf('  Lost / Stolen Card?! ')).toBe('lost-stolen-card');
  });

  it('reads a CSV of question/answer pairs, one article per row, with quotes and line breaks', () => {
    const csv =
      'question,answer,intents\n"How do I freeze my card?","Open the app.\nTap ""Freeze"".",lost_or_stolen_card\nWhat is the fee?,None,\n';
    const articles = parseUpload(utf8(csv), { format: 'csv', language: 'en' });
    expect(articles.map((a) => [a.articleId, a.title, a.body, a.intents])).toEqual([
      ['how-do-i-freeze-my-card', 'How do I freeze my card?', 'Open the app.\nTap "Freeze".', ['lost_or_stolen_card']],
      ['what-is-the-fee', 'What is the fee?', 'None', []],
    ]);
  });

  it('refuses bytes that are not UTF-8, NUL characters and oversize uploads', () => {
    expect(codeOf(() => decodeUpload(Buffer.from([0x23, 0x20, 0xc3, 0x28, 0x0a])))).toBe('EVX_ERR_KB_ENCODING');
    expect(codeOf(() => decodeUpload(Buffer.from('# T\n\nLatin-1 caf\xe9', 'latin1')))).toBe('EVX_ERR_KB_ENCODING');
    expect(codeOf(() => decodeUpload(utf8('a\u0000b')))).toBe('EVX_ERR_KB_ENCODING');
    expect(codeOf(() => decodeUpload(Buffer.alloc(MAX_KB_UPLOAD_BYTES + 1, 0x61)))).toBe('EVX_ERR_KB_TOO_LARGE');
    expect(decodeUpload(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('héllo')]))).toBe('héllo');
  });

  it('refuses a CSV without question and answer columns, a blank answer, a duplicate id', () => {
    expect(codeOf(() => parseUpload(utf8('q,a\nx,y\n'), { format: 'csv' }))).toBe('EVX_ERR_KB_CSV');
    expect(codeOf(() => parseUpload(utf8('question,answer\n'), { format: 'csv' }))).toBe('EVX_ERR_KB_CSV');
    expect(codeOf(() => parseUpload(utf8('question,answer\nWhy?, \n'), { format: 'csv' }))).toBe('EVX_ERR_KB_ARTICLE');
    expect(codeOf(() => parseUpload(utf8('question,answer,id\nA?,x,same\nB?,y,same\n'), { format: 'csv' }))).toBe('EVX_ERR_KB_ARTICLE');
  });

  it('refuses an article without text, a bad language, a bad id or odd labels', () => {
    expect(codeOf(() => parseUpload(utf8('# Only a title\n'), { format: 'markdown' }))).toBe('EVX_ERR_KB_ARTICLE');
    expect(codeOf(() => parseUpload(utf8('---\nlanguage: fr\n---\n# T\nbody'), { format: 'markdown' }))).toBe('EVX_ERR_KB_ARTICLE');
    expect(codeOf(() => parseUpload(utf8('# T\nbody'), { format: 'markdown', articleId: '../etc' }))).toBe('EVX_ERR_KB_ARTICLE');
    expect(codeOf(() => parseUpload(utf8('# T\nbody'), { format: 'markdown', intents: ['<script>'] }))).toBe('EVX_ERR_KB_ARTICLE');
  });
});
