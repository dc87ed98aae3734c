/**
 * The embeddable chat (web/webrtc/embed.ts): `GET /chat/embed.js`, the snippet a site pastes into its
 * page, and `GET /chat/frame`, the chat page it opens in an iframe. Who may embed is the box's
 * decision, not the snippet's: the frame is sent with CSP `frame-ancestors 'self'` plus only
 * chat.allowedOrigins (none configured: only the box itself may frame it, the deny-by-default of
 * every other page), and the chat socket refuses any other Origin. Both routes are public (the page
 * is the public "call us" page; what it does needs a chat token) and serve files only from the
 * built pages directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { evxError } from '../errors.js';

export const CHAT_EMBED_PATH = '/chat/embed.js';
export const CHAT_FRAME_PATH = '/chat/frame';

/** scheme://host[:port] with nothing a CSP header could read as another source or directive. */
const SAFE_ORIGIN = /^https?:\/\/(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The frame page's Content-Security-Policy: the console's policy, framed only by the allowed origins. */
export function chatFrameCsp(allowedOrigins: readonly string[]): string {
  const ancestors = ["'self'", ...allowedOrigins.filter((o) => SAFE_ORIGIN.test(o))].join(' ');
  return (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; " +
    `frame-ancestors ${ancestors}; base-uri 'none'; form-action 'self'`
  );
}

export function registerChatEmbed(app: FastifyInstance, opts: { webDir: string; allowedOrigins: readonly string[] }): void {
  const webDir = resolve(opts.webDir);
  const read = (name: string): Buffer => {
    const file = join(webDir, name);
    if (!existsSync(file))
      throw evxError('EVX_ERR_NOT_READY', 'The WebRTC pages are not built: run `make webrtc-web`', {
        details: { reason: 'pages-not-built' },
      });
    return readFileSync(file);
  };
  const csp = chatFrameCsp(opts.allowedOrigins);
  const routeOptions = { schema: { hide: true }, config: { public: true as const } };
  app.get(CHAT_EMBED_PATH, routeOptions, async (_request, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      // Loaded cross-origin by the sites that embed it: a plain <script> needs no CORS, and nothing else may use it.
      .header('cross-origin-resource-policy', 'cross-origin')
      .send(read('embed.js')),
  );
  app.get(CHAT_FRAME_PATH, routeOptions, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', csp)
      // X-Frame-Options cannot name origins; CSP frame-ancestors above replaces it where it is set.
      .header('x-frame-options', 'SAMEORIGIN')
      .send(read('call.html')),
  );
}
