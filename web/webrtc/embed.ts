/**
 * The embeddable chat snippet (served at /chat/embed.js). A site pastes
 *   <script src="https://<box>/chat/embed.js" async></script>
 * into its page: this adds a "Chat with us" launcher that opens the box's chat page (/chat/frame) in
 * an iframe. The box decides who may embed it: /chat/frame is sent with CSP frame-ancestors naming
 * only chat.allowedOrigins (and the box itself), so on any other site the browser refuses the frame.
 * Attributes: data-box (the box's origin when the script is served from elsewhere; http(s) only),
 * data-label (the launcher's text). Nothing is downloaded from anyone but the box; no cookies; the
 * text goes in through textContent only.
 */
(() => {
  const script = document.currentScript;
  if (!(script instanceof HTMLScriptElement) || script.src === '') return;
  let box = new URL(script.src).origin;
  const given = script.dataset['box'];
  if (given !== undefined && given !== '') {
    try {
      const u = new URL(given);
      if (u.protocol === 'https:' || u.protocol === 'http:') box = u.origin;
    } catch {
      // not a URL: keep the script's own origin
    }
  }
  const label = (script.dataset['label'] ?? '').trim().slice(0, 60) || 'Chat with us';

  const launcher = document.createElement('button');
  launcher.type = 'button';
  launcher.id = 'evx-chat-launcher';
  launcher.textContent = label;
  launcher.setAttribute('aria-expanded', 'false');
  launcher.style.cssText =
    'position:fixed;right:16px;bottom:16px;z-index:2147483646;padding:10px 16px;border:0;border-radius:20px;' +
    'background:#1d4ed8;color:#fff;font:600 15px/1.2 system-ui,sans-serif;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)';

  let frame: HTMLIFrameElement | null = null;
  launcher.addEventListener('click', () => {
    if (frame === null) {
      frame = document.createElement('iframe');
      frame.id = 'evx-chat-frame';
      frame.title = label;
      frame.src = `${box}/chat/frame`;
      // The chat page can escalate to a call: the microphone is delegated to the box's frame only.
      frame.allow = 'microphone; autoplay';
      frame.referrerPolicy = 'no-referrer';
      frame.style.cssText =
        'position:fixed;right:16px;bottom:64px;z-index:2147483647;width:min(400px,calc(100vw - 32px));' +
        'height:min(620px,calc(100vh - 96px));border:1px solid #ccc;border-radius:8px;background:#fff;box-shadow:0 4px 16px rgba(0,0,0,.3)';
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    launcher.setAttribute('aria-expanded', String(!frame.hidden));
  });

  const mount = () => document.body.appendChild(launcher);
  if (document.body !== null) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
})();
