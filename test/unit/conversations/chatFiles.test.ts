import { describe, expect, it } from 'vitest';
import { checkFileType, cleanFileName, withTypeExtension } from '../../../appliance/conversations/chatFiles.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isEdgeVoxError(err) ? err.code : 'not an EdgeVox error';
  }
};
const ALL = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf'];
const SAMPLES: Record<string, Buffer> = {
  'image/png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
  'image/jpeg': Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]),
  'image/gif': Buffer.from('GIF89a\x01\x00', 'latin1'),
  'image/webp': Buffer.concat([Buffer.from('RIFF'), Buffer.from([36, 0, 0, 0]), Buffer.from('WEBPVP8 ')]),
  'application/pdf': Buffer.from('%PDF-1.4\n%'),
};

describe('checkFileType', () => {
  it('takes each type whose bytes start like it, with Content-Type parameters and any case', () => {
    for (const [type, bytes] of Object.entries(SAMPLES)) expect(checkFileType(type, bytes, ALL)).toBe(type);
    expect(checkFileType('Application/PDF; charset=binary', SAMPLES['application/pdf']!, ALL)).toBe('application/pdf');
  });

  it('refuses a type not allowed, an unknown or missing type, and bytes of another type', () => {
    expect(codeOf(() => checkFileType('image/gif', SAMPLES['image/gif']!, ['image/png']))).toBe('EVX_ERR_CHAT_FILE_TYPE');
    expect(codeOf(() => checkFileType('text/html', Buffer.from('<html>'), ALL))).toBe('EVX_ERR_CHAT_FILE_TYPE');
    expect(codeOf(() => checkFileType(undefined, SAMPLES['image/png']!, ALL))).toBe('EVX_ERR_CHAT_FILE_TYPE');
    expect(codeOf(() => checkFileType('image/svg+xml', Buffer.from('<svg onload=alert(1)>'), ALL))).toBe('EVX_ERR_CHAT_FILE_TYPE');
    for (const [type] of Object.entries(SAMPLES))
      for (const [other, bytes] of Object.entries(SAMPLES))
        if (other !== type)
          expect(
            codeOf(() => checkFileType(type, bytes, ALL)),
            `${other} as ${type}`,
          ).toBe('EVX_ERR_CHAT_FILE_TYPE');
    expect(codeOf(() => checkFileType('image/png', Buffer.alloc(0), ALL))).toBe('EVX_ERR_CHAT_FILE_TYPE');
  });
});

describe('cleanFileName', () => {
  it('keeps an ordinary name, decoding what the page percent-encoded', () => {
    expect(cleanFileName('receipt.png')).toBe('receipt.png');
    expect(cleanFileName(encodeURIComponent('收据 3月.pdf'))).toBe('收据 3月.pdf');
    expect(cleanFileName('100%.pdf')).toBe('100%.pdf');
  });

  it('drops directories, control and bidi-override characters, leading dots; bounds the length', () => {
    expect(cleanFileName('../../etc/passwd')).toBe('passwd');
    expect(cleanFileName('C:\\Users\\x\\a.png')).toBe('a.png');
    expect(cleanFileName('evil\u202Egnp.exe')).toBe('evilgnp.exe');
    expect(cleanFileName('a\u0000b\r\nc.pdf')).toBe('abc.pdf');
    expect(cleanFileName('.htaccess')).toBe('htaccess');
    expect([...cleanFileName('x'.repeat(500))]).toHaveLength(120);
    expect(cleanFileName('😀'.repeat(200))).toBe('😀'.repeat(120));
  });

  it('gives "file" for nothing usable, and spaces for underscores so redaction sees words', () => {
    for (const raw of [undefined, '', '   ', '../', '\u0001\u0002']) expect(cleanFileName(raw)).toBe('file');
    expect(cleanFileName('card_4111_1111.png')).toBe('card 4111 1111.png');
  });
});

describe('withTypeExtension', () => {
  it('ends every name with an extension of the checked type, whatever the sender named it', () => {
    expect(withTypeExtension('receipt.png', 'image/png')).toBe('receipt.png');
    expect(withTypeExtension('Photo.JPEG', 'image/jpeg')).toBe('Photo.JPEG');
    expect(withTypeExtension('photo.jpg', 'image/jpeg')).toBe('photo.jpg');
    // a PDF named as a page or a program is saved as a PDF
    expect(withTypeExtension('invoice.html', 'application/pdf')).toBe('invoice.html.pdf');
    expect(withTypeExtension('invoice.hta', 'application/pdf')).toBe('invoice.hta.pdf');
    expect(withTypeExtension('scan', 'image/webp')).toBe('scan.webp');
    expect(withTypeExtension('file.png.exe', 'image/png')).toBe('file.png.exe.png');
    expect(withTypeExtension('.png', 'image/gif')).toBe('.png.gif');
  });
});
