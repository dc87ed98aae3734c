/** The chat frame's CSP: framed by the box and the allowed origins only; nothing else gets into the header. */
import { describe, expect, it } from 'vitest';
import { chatFrameCsp } from '../../../appliance/conversations/chatEmbed.js';

const ancestors = (csp: string) => /frame-ancestors ([^;]*);/.exec(csp)?.[1];

describe('chatFrameCsp', () => {
  it('is the box alone by default (deny every other site)', () => {
    expect(ancestors(chatFrameCsp([]))).toBe("'self'");
  });

  it('names the allowed origins', () => {
    expect(ancestors(chatFrameCsp(['https://www.bank.example', 'http://127.0.0.1:8081', 'https://[::1]:9000']))).toBe(
      "'self' https://www.bank.example http://127.0.0.1:8081 https://[::1]:9000",
    );
  });

  it('drops origins the schema lets through that could read as another source or directive', () => {
    const csp = chatFrameCsp([
      'https://a.example;script-src',
      "https://b.example'",
      'https://*.example',
      'https://c.example,*',
      'https://ok.example',
    ]);
    expect(ancestors(csp)).toBe("'self' https://ok.example");
    expect(csp.split(';').map((d) => d.trim().split(' ')[0])).toEqual([
      'default-src',
      'img-src',
      'style-src',
      'connect-src',
      'frame-ancestors',
      'base-uri',
      'form-action',
    ]);
  });
});
