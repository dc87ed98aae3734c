/**
 * The "call us" page: asks the appliance for a caller session, joins the call, sends the microphone
 * and plays the agent once one answers. Page state is mirrored on <body data-state> (and the call id
 * on data-call-id) for the end-to-end tests and for styling.
 */
import { BrowserPeer } from './peer.js';
import { t } from '../i18n/i18n.js';
import { startPageI18n } from './pageI18n.js';
import { VisitorChat } from './visitorChat.js';

startPageI18n();

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const callBtn = $<HTMLButtonElement>('call');
const hangBtn = $<HTMLButtonElement>('hangup');
const muteBtn = $<HTMLButtonElement>('mute');
const remote = $<HTMLAudioElement>('remote');

let peer: BrowserPeer | undefined;
let mic: MediaStream | undefined;

function setState(state: 'idle' | 'connecting' | 'waiting' | 'talking' | 'ended' | 'error', text: string): void {
  document.body.dataset['state'] = state;
  status.textContent = text;
  callBtn.disabled = !(state === 'idle' || state === 'ended' || state === 'error');
  hangBtn.disabled = !(state === 'connecting' || state === 'waiting' || state === 'talking');
  muteBtn.disabled = hangBtn.disabled;
}

async function hearAgent(producerId: string): Promise<void> {
  if (peer === undefined) return;
  remote.srcObject = await peer.receive(producerId);
  await remote.play().catch(() => undefined);
  setState('talking', t('callus:connected'));
}

async function call(): Promise<void> {
  setState('connecting', t('callus:connecting'));
  try {
    const res = await fetch('/api/v1/webrtc/caller-sessions', { method: 'POST' });
    if (res.status === 503) {
      setState('error', t('callus:busy'));
      return;
    }
    if (res.status !== 201) throw new Error(`HTTP ${res.status}`);
    const session = (await res.json()) as { callId: string; token: string };
    chat.callStarted(session.callId, session.token);
    mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true }, video: false });
    peer = await BrowserPeer.join(session.token, undefined, {
      producer: (p) => {
        if (p.role === 'agent') void hearAgent(p.producerId);
      },
      ended: (reason) => {
        mic?.getTracks().forEach((t) => t.stop());
        setState('ended', reason === 'agent-left' ? t('callus:agentEnded') : t('callus:ended'));
      },
    });
    document.body.dataset['callId'] = peer.callId;
    const track = mic.getAudioTracks()[0];
    if (track === undefined) throw new Error('no microphone');
    await peer.send(track, 'opus');
    setState('waiting', t('callus:waiting'));
    const agent = [...peer.producers.values()].find((p) => p.role === 'agent');
    if (agent !== undefined) await hearAgent(agent.producerId);
  } catch (err) {
    mic?.getTracks().forEach((t) => t.stop());
    setState('error', t('callus:failed', { error: err instanceof Error ? err.message : String(err) }));
  }
}

callBtn.onclick = () => void call();
hangBtn.onclick = () => void peer?.hangup();
muteBtn.onclick = () => {
  const track = mic?.getAudioTracks()[0];
  if (track === undefined) return;
  track.enabled = !track.enabled;
  muteBtn.textContent = track.enabled ? t('callus:mute') : t('callus:unmute');
  muteBtn.setAttribute('aria-pressed', String(!track.enabled));
};
setState('idle', t('callus:idle'));

// The chat (visitorChat.ts): start, send, typing, call from the chat (linked), end.
const chat = new VisitorChat({
  root: $('chat'),
  log: $('chat-log'),
  typing: $('chat-typing'),
  input: $<HTMLInputElement>('chat-input'),
  status: $('chat-status'),
  file: $<HTMLInputElement>('chat-file'),
  fileLabel: $('chat-file-label'),
});
$('chat-file').onchange = () => void chat.sendFile();
$('chat-start').onsubmit = (e) => {
  e.preventDefault();
  chat.start({
    name: $<HTMLInputElement>('chat-name').value,
    customerId: $<HTMLInputElement>('chat-customer').value,
    email: $<HTMLInputElement>('chat-email').value,
  });
};
$('chat-form').onsubmit = (e) => {
  e.preventDefault();
  chat.send();
};
$('chat-input').oninput = () => chat.typing();
$('chat-call').onclick = () => callBtn.click();
$('chat-end').onclick = () => chat.end();
(window as unknown as { evxChat: VisitorChat }).evxChat = chat;
