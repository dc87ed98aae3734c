/**
 * The "call us" page: asks the appliance for a caller session, joins the call, sends the microphone
 * and plays the agent once one answers. Page state is mirrored on <body data-state> (and the call id
 * on data-call-id) for the end-to-end tests and for styling.
 */
import { BrowserPeer } from './peer.js';

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
  setState('talking', 'Connected to an agent.');
}

async function call(): Promise<void> {
  setState('connecting', 'Connecting…');
  try {
    const res = await fetch('/api/v1/webrtc/caller-sessions', { method: 'POST' });
    if (res.status === 503) {
      setState('error', 'All lines are busy. Please try again in a moment.');
      return;
    }
    if (res.status !== 201) throw new Error(`HTTP ${res.status}`);
    const session = (await res.json()) as { callId: string; token: string };
    mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true }, video: false });
    peer = await BrowserPeer.join(session.token, undefined, {
      producer: (p) => {
        if (p.role === 'agent') void hearAgent(p.producerId);
      },
      ended: (reason) => {
        mic?.getTracks().forEach((t) => t.stop());
        setState('ended', reason === 'agent-left' ? 'The agent ended the call.' : 'Call ended.');
      },
    });
    document.body.dataset['callId'] = peer.callId;
    const track = mic.getAudioTracks()[0];
    if (track === undefined) throw new Error('no microphone');
    await peer.send(track, 'opus');
    setState('waiting', 'Waiting for an agent…');
    const agent = [...peer.producers.values()].find((p) => p.role === 'agent');
    if (agent !== undefined) await hearAgent(agent.producerId);
  } catch (err) {
    mic?.getTracks().forEach((t) => t.stop());
    setState('error', `The call failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

callBtn.onclick = () => void call();
hangBtn.onclick = () => void peer?.hangup();
muteBtn.onclick = () => {
  const track = mic?.getAudioTracks()[0];
  if (track === undefined) return;
  track.enabled = !track.enabled;
  muteBtn.textContent = track.enabled ? 'Mute' : 'Unmute';
  muteBtn.setAttribute('aria-pressed', String(!track.enabled));
};
setState('idle', 'Press Call to talk to us.');
