/**
 * The agent softphone: a list of web calls waiting for an agent (polled with the agent token),
 * answer / mute / hang up, the caller's audio, the live transcript of both legs and a screen-pop of
 * what the appliance learned about the call (intent, emotion, routing decision). Supervisors use the
 * same page to listen in on a call by id. State on <body data-state> for tests.
 *
 * With an agent token the page also keeps a presence socket (`ready`): the agent counts as logged in
 * while it is open, and the ACD offers calls on it; an offer rings (Answer joins the call, as from
 * the queue; Decline refuses it) until answered, declined, timed out or withdrawn. Presence on
 * <body data-presence>, the offer on <body data-offer="ringing" data-offer-call-id>. In a call the
 * agent may hold / resume it and transfer it to another agent or a queue by id (requests on the
 * presence socket; the box checks the call is theirs and the target exists): <body data-held>,
 * <body data-transfer="pending|done|failed">; a done transfer ends the page's call (`transferred`).
 *
 * The screen-pop also shows the caller's customer (customerPop.ts): their open chat or e-mail case
 * first, then earlier contacts. The box sends it right after an offer on the presence socket; for a
 * call answered otherwise the page asks for it there (`customer`; the box answers only for a call
 * offered to or answered by this agent).
 *
 * During a call the agent-assist cards the box pushes (`assist.cards`) show newest first, with
 * Useful / Not useful buttons (assistCards.ts); `window.evxAgent.cards()` lists them with the moment
 * the page received each.
 */
import type { CallEventForAgent, CallOffer, ServerMessage } from '../../appliance/webrtc/protocol.js';
import { BrowserPeer, Signalling, signallingUrl } from './peer.js';
import { fmtNumber, fmtPercent, t } from '../i18n/i18n.js';
import { pageErrorText, startPageI18n } from './pageI18n.js';
import { AgentChats } from './agentChats.js';
import { CardPanel } from './assistCards.js';
import { CustomerPop } from './customerPop.js';

startPageI18n();

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const tokenInput = $<HTMLInputElement>('token');
const queueList = $<HTMLUListElement>('queue');
const joinInput = $<HTMLInputElement>('join-id');
const joinBtn = $<HTMLButtonElement>('join');
const muteBtn = $<HTMLButtonElement>('mute');
const hangBtn = $<HTMLButtonElement>('hangup');
const transcript = $('transcript');
const pop = $('pop');
const players = $('players');
const whisperBtn = $<HTMLButtonElement>('whisper');
const presenceLine = $('presence');
const offerBox = $('offer');
const offerText = $('offer-text');
const offerAnswerBtn = $<HTMLButtonElement>('offer-answer');
const offerDeclineBtn = $<HTMLButtonElement>('offer-decline');
const holdBtn = $<HTMLButtonElement>('hold');
const transferKind = $<HTMLSelectElement>('transfer-kind');
const transferId = $<HTMLInputElement>('transfer-id');
const transferBtn = $<HTMLButtonElement>('transfer');
const controlStatus = $('control-status');
const customerPop = new CustomerPop({
  root: $('customer'),
  summary: $('customer-summary'),
  open: $('customer-open'),
  timeline: $('customer-timeline'),
});
const cardPanel = new CardPanel($('card-list'), $('cards-none'), {
  send: async (cardId, useful) => {
    if (peer === undefined) throw new Error('not in a call');
    return (await peer.cardFeedback(cardId, useful)).feedback;
  },
  self: () => (peer !== undefined && presenceAgentId !== undefined ? `${peer.joined.role}:${presenceAgentId}` : undefined),
  errorText: controlError,
});

const TOKEN_KEY = 'evx-agent-token';
let peer: BrowserPeer | undefined;
let mic: MediaStream | undefined;
const partials = new Map<string, HTMLParagraphElement>();

function token(): string {
  return tokenInput.value.trim();
}

function setState(state: 'idle' | 'joining' | 'in-call' | 'error', text: string): void {
  document.body.dataset['state'] = state;
  status.textContent = text;
  const inCall = state === 'in-call' || state === 'joining';
  muteBtn.disabled = !inCall;
  hangBtn.disabled = !inCall;
  whisperBtn.disabled = !(state === 'in-call' && peer?.joined.role === 'supervisor');
  joinBtn.disabled = inCall;
  setControls();
}

// --- hold and transfer (ACD calls answered on this softphone; sent on the presence socket) -------

let held = false;
let transferring = false;

/** Hold and transfer: only an agent in a call, with the presence socket the requests go on. */
function setControls(): void {
  const usable = document.body.dataset['state'] === 'in-call' && peer?.joined.role === 'agent' && presence !== undefined;
  holdBtn.disabled = !usable || transferring;
  transferBtn.disabled = !usable || transferring || held;
  transferKind.disabled = transferBtn.disabled;
  transferId.disabled = transferBtn.disabled;
  holdBtn.textContent = held ? t('softphone:resume') : t('softphone:hold');
  holdBtn.setAttribute('aria-pressed', String(held));
  document.body.dataset['held'] = String(held);
}

function controlError(err: unknown): string {
  return pageErrorText(err instanceof Error ? err.message : String(err));
}

async function toggleHold(): Promise<void> {
  const callId = peer?.joined.callId;
  if (callId === undefined || presence === undefined) return;
  holdBtn.disabled = true;
  try {
    held = (await presence.request('hold', { callId, held: !held })).held;
    controlStatus.textContent = held ? t('softphone:onHold') : t('softphone:resumed');
  } catch (err) {
    controlStatus.textContent = t('softphone:holdFailed', { error: controlError(err) });
  }
  setControls();
}

async function transfer(): Promise<void> {
  const callId = peer?.joined.callId;
  const id = transferId.value.trim();
  if (callId === undefined || presence === undefined || id === '') return;
  const target = transferKind.value === 'group' ? { kind: 'group', groupId: id } : { kind: 'agent', agentId: id };
  transferring = true;
  document.body.dataset['transfer'] = 'pending';
  controlStatus.textContent = target.kind === 'group' ? t('softphone:transferringToQueue') : t('softphone:ringingAgent');
  setControls();
  try {
    await presence.request('transfer', { callId, target });
    document.body.dataset['transfer'] = 'done';
    controlStatus.textContent = t('softphone:transferred');
  } catch (err) {
    document.body.dataset['transfer'] = 'failed';
    controlStatus.textContent = t('softphone:transferFailed', { error: controlError(err) });
  }
  transferring = false;
  setControls();
}

function line(speaker: string, text: string, cls = ''): HTMLParagraphElement {
  const p = document.createElement('p');
  if (cls) p.className = cls;
  const who = document.createElement('span');
  who.className = 'speaker';
  who.textContent = speaker;
  p.append(who, document.createTextNode(text));
  return p;
}

function setPop(key: string, value: string): void {
  let dd = pop.querySelector<HTMLElement>(`dd[data-key="${key}"]`);
  if (dd === null) {
    const dt = document.createElement('dt');
    dt.textContent = t(`softphone:pop.${key}`, { defaultValue: key });
    dd = document.createElement('dd');
    dd.dataset['key'] = key;
    pop.querySelector('dl')?.append(dt, dd);
  }
  dd.textContent = value;
}

function onCallEvent(e: CallEventForAgent): void {
  // the moment of receipt, before any rendering: the issue times final -> softphone
  const receivedAt = Date.now();
  switch (e.type) {
    case 'asr.partial': {
      let p = partials.get(e.legId);
      if (p === undefined) {
        p = line(e.speaker, '', 'partial');
        partials.set(e.legId, p);
        transcript.append(p);
      }
      p.lastChild!.textContent = e.text;
      break;
    }
    case 'asr.final': {
      partials.get(e.legId)?.remove();
      partials.delete(e.legId);
      if (e.text.trim() !== '') transcript.append(line(e.speaker, e.text, 'final'));
      break;
    }
    case 'intent':
      if (e.intent !== null) setPop('intent', t('softphone:intentValue', { intent: e.intent, confidence: fmtPercent(e.confidence) }));
      break;
    case 'emotion':
      setPop(
        'emotion',
        t('softphone:emotionValue', {
          emotion: t(`live:emotion.${e.category}`, { defaultValue: e.category }),
          trend: t(`live:trend.${e.trend}`, { defaultValue: e.trend }),
        }),
      );
      break;
    case 'route.decision':
      setPop('routing', e.summary);
      break;
    case 'assist.cards':
      cardPanel.push(e, receivedAt);
      break;
    case 'assist.feedback':
      cardPanel.verdict(e.cardId, e.useful, e.by);
      break;
    case 'call.answered':
      break;
  }
  transcript.scrollTop = transcript.scrollHeight;
}

async function refreshQueue(): Promise<void> {
  if (peer !== undefined) return;
  if (token() === '') {
    if (document.body.dataset['state'] === 'idle') status.textContent = t('softphone:needToken');
    return;
  }
  const res = await fetch('/api/v1/webrtc/queue', { headers: { 'x-agent-token': token() } }).catch(() => undefined);
  if (res === undefined) return;
  if (res.status === 401) {
    setState('error', t('softphone:tokenInvalid'));
    return;
  }
  const { calls } = (await res.json()) as {
    calls: {
      callId: string;
      source: 'web' | 'sip';
      startedAt: number | null;
      hasCaller: boolean;
      hasAgent: boolean;
      agentCodec: 'opus' | 'pcmu' | 'pcma';
    }[];
  };
  const waiting = calls.filter((c) => c.hasCaller && !c.hasAgent);
  queueList.replaceChildren(
    ...waiting.map((c) => {
      const li = document.createElement('li');
      const waitedS = c.startedAt === null ? 0 : Math.max(0, Math.round((Date.now() - c.startedAt) / 1000));
      li.append(
        document.createTextNode(
          t(c.source === 'sip' ? 'softphone:phoneCallWaiting' : 'softphone:webCallWaiting', { s: fmtNumber(waitedS) }),
        ),
      );
      const b = document.createElement('button');
      b.className = 'primary answer';
      b.textContent = t('softphone:answer');
      b.dataset['callId'] = c.callId;
      // The page's SDP bridge sends Opus or PCMU (a PCMA phone leg cannot hear it: see webrtc/README.md).
      b.onclick = () => void answer(c.callId, c.agentCodec === 'opus' ? 'opus' : 'pcmu');
      li.append(b);
      return li;
    }),
  );
  if (document.body.dataset['state'] !== 'error')
    status.textContent = waiting.length === 0 ? t('softphone:noneWaiting') : t('softphone:nWaiting', { count: fmtNumber(waiting.length) });
}

/** `codec`: what this agent sends; a phone (SIP) call needs its G.711, since mediasoup does not transcode. */
async function answer(callId: string, codec: 'opus' | 'pcmu' = 'opus'): Promise<void> {
  sessionStorage.setItem(TOKEN_KEY, token());
  setState('joining', t('softphone:answering'));
  transcript.replaceChildren();
  partials.clear();
  heard.clear();
  cardPanel.start();
  whisperBtn.textContent = t('softphone:whisper');
  try {
    peer = await BrowserPeer.join(token(), callId, {
      // An agent hears the caller; a supervisor hears the caller and the agent (the server decides who may hear whom).
      producer: (p) => void hear(p.producerId),
      producerClosed: (id) => players.querySelector(`audio[data-producer-id="${id}"]`)?.remove(),
      callEvent: onCallEvent,
      ended: (reason) => {
        held = false;
        cardPanel.end();
        mic?.getTracks().forEach((t) => t.stop());
        mic = undefined;
        players.replaceChildren();
        peer = undefined;
        chats.showForCall(null);
        setState('idle', t('softphone:callEnded', { reason: t(`history:endReasonOf.${reason}`, { defaultValue: reason }) }));
        void refreshQueue();
      },
    });
    document.body.dataset['callId'] = callId;
    chats.showForCall(callId);
    if (customerPop.call !== callId || !customerPop.shown) requestCustomer(callId);
    setPop('call', callId.slice(0, 8));
    setPop('role', t(`softphone:role.${peer.joined.role}`, { defaultValue: peer.joined.role }));
    for (const p of [...peer.producers.values()]) await hear(p.producerId);
    if (peer.joined.role === 'agent') {
      mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true }, video: false });
      const track = mic.getAudioTracks()[0];
      if (track !== undefined) await peer.send(track, codec);
    }
    setState('in-call', peer.joined.role === 'agent' ? t('softphone:inCall') : t('softphone:listeningIn'));
  } catch (err) {
    setState('error', t('softphone:answerFailed', { error: pageErrorText(err instanceof Error ? err.message : String(err)) }));
    void peer?.hangup();
    peer = undefined;
  }
}

const heard = new Set<string>();

async function hear(producerId: string): Promise<void> {
  if (peer === undefined || heard.has(producerId)) return;
  heard.add(producerId);
  const audio = document.createElement('audio');
  audio.autoplay = true;
  audio.dataset['producerId'] = producerId;
  players.append(audio);
  audio.srcObject = await peer.receive(producerId);
  await audio.play().catch(() => undefined);
}

/** Supervisors: speak to the agent only (the caller never hears a supervisor). */
async function whisper(): Promise<void> {
  if (peer === undefined || mic !== undefined) return;
  mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true }, video: false });
  const track = mic.getAudioTracks()[0];
  if (track !== undefined) await peer.send(track, 'opus');
  whisperBtn.textContent = t('softphone:whispering');
  whisperBtn.disabled = true;
}

// --- presence and offered calls -----------------------------------------------------------------

/** How long before a dropped presence socket is opened again. */
const PRESENCE_RETRY_MS = 3000;
let presence: Signalling | undefined;
let presenceToken = '';
/** The agent the presence socket is ready as (feedback's `by` is `agent:<id>`). */
let presenceAgentId: string | undefined;
let presenceRetry: ReturnType<typeof setTimeout> | undefined;
let offer: CallOffer | undefined;
let offerTimer: ReturnType<typeof setTimeout> | undefined;

function setPresence(state: 'offline' | 'connecting' | 'ready' | 'refused', text: string): void {
  document.body.dataset['presence'] = state;
  presenceLine.textContent = text;
  setControls();
}

/** Opens the presence socket for the token in the field (again after a drop, or for a new token). */
async function connectPresence(): Promise<void> {
  const tok = token();
  if (presenceRetry !== undefined) clearTimeout(presenceRetry);
  presenceRetry = undefined;
  if (presence !== undefined && presenceToken === tok) return;
  const old = presence;
  presence = undefined;
  if (old !== undefined) {
    old.onClose = () => {};
    old.close();
    clearOffer();
  }
  presenceToken = tok;
  if (tok === '') {
    setPresence('offline', t('softphone:presenceNoToken'));
    return;
  }
  setPresence('connecting', t('softphone:presenceConnecting'));
  const retry = (why: 'noConnection' | 'disconnected' | 'connectionLost') => {
    setPresence('offline', t('softphone:presenceRetrying', { why: t(`softphone:why.${why}`) }));
    presenceRetry ??= setTimeout(() => void connectPresence(), PRESENCE_RETRY_MS);
  };
  let sig: Signalling;
  try {
    sig = await Signalling.open(signallingUrl());
  } catch {
    if (token() === tok) retry('noConnection');
    return;
  }
  if (token() !== tok) {
    sig.close();
    return;
  }
  sig.onNotification = onPresenceMessage;
  sig.onClose = () => {
    if (presence !== sig) return;
    presence = undefined;
    presenceToken = '';
    clearOffer();
    retry('disconnected');
  };
  try {
    const ready = await sig.request('ready', { token: tok });
    presence = sig;
    presenceAgentId = ready.agentId;
    sessionStorage.setItem(TOKEN_KEY, tok);
    setPresence('ready', t('softphone:presenceReady', { agent: ready.agentId }));
    prepareRinging();
  } catch (err) {
    sig.onClose = () => {};
    sig.close();
    const message = err instanceof Error ? err.message : String(err);
    // a refused token or agent is not retried; a dropped connection is
    if (/^EVX_ERR_WEBRTC_(AUTH|SIGNALLING)/.test(message)) {
      presenceToken = tok;
      setPresence('refused', t('softphone:presenceRefused', { error: pageErrorText(message) }));
    } else {
      presenceToken = '';
      retry('connectionLost');
    }
  }
}

/** Asks the box for the caller's customer of `callId` (refused unless the call is this agent's: nothing shown). */
function requestCustomer(callId: string): void {
  if (customerPop.call !== callId) customerPop.clear(callId);
  presence
    ?.request('customer', { callId })
    .then(({ customer }) => customerPop.show(callId, customer))
    .catch(() => undefined);
}

function onPresenceMessage(m: ServerMessage): void {
  if (m.type === 'offer') {
    // busy: on a call (or answering one) already
    if (peer !== undefined || document.body.dataset['state'] === 'joining') {
      void presence?.request('decline', { callId: m.callId }).catch(() => undefined);
      return;
    }
    showOffer(m);
  } else if (m.type === 'customer') {
    customerPop.show(m.callId, m.customer);
  } else if (m.type === 'offer-cancelled' && offer?.callId === m.callId) {
    clearOffer();
    if (m.reason !== 'answered') status.textContent = m.reason === 'timeout' ? t('softphone:missed') : t('softphone:withdrawn');
  }
}

function showOffer(o: CallOffer): void {
  clearOffer();
  offer = { callId: o.callId, ringTimeoutMs: o.ringTimeoutMs, source: o.source, agentCodec: o.agentCodec };
  // the server withdraws it at the timeout; this only guards against a lost message
  offerTimer = setTimeout(clearOffer, o.ringTimeoutMs + 2000);
  offerText.textContent = t(o.source === 'sip' ? 'softphone:phoneOffer' : 'softphone:webOffer', {
    s: fmtNumber(Math.round(o.ringTimeoutMs / 1000)),
  });
  customerPop.clear(o.callId);
  offerBox.hidden = false;
  offerAnswerBtn.disabled = false;
  offerDeclineBtn.disabled = false;
  document.body.dataset['offer'] = 'ringing';
  document.body.dataset['offerCallId'] = o.callId;
  document.body.dataset['offerAt'] = String(Date.now());
  status.textContent = t('softphone:incomingStatus');
  startRinging();
}

function clearOffer(): void {
  if (offerTimer !== undefined) clearTimeout(offerTimer);
  offerTimer = undefined;
  offer = undefined;
  stopRinging();
  offerBox.hidden = true;
  document.body.dataset['offer'] = 'none';
  delete document.body.dataset['offerCallId'];
}

offerAnswerBtn.onclick = () => {
  const o = offer;
  if (o === undefined) return;
  clearOffer();
  // The page's SDP bridge sends Opus or PCMU (a PCMA phone leg cannot hear it: see webrtc/README.md).
  void answer(o.callId, o.agentCodec === 'opus' ? 'opus' : 'pcmu');
};
offerDeclineBtn.onclick = () => {
  const o = offer;
  if (o === undefined) return;
  clearOffer();
  void presence?.request('decline', { callId: o.callId }).catch(() => undefined);
  status.textContent = t('softphone:declined');
};

/** A ring tone while an offer rings (best effort: 440 + 480 Hz, 1.5 s every 4 s). */
let ringCtx: AudioContext | undefined;
let ringOut: GainNode | undefined;
let ringTimer: ReturnType<typeof setInterval> | undefined;

/**
 * Creates the ring tone's audio context once the softphone is ready: creating one takes ~100 ms of
 * the page's thread, which at the first offer delayed the screen-pop that follows it.
 */
function prepareRinging(): void {
  try {
    ringCtx ??= new AudioContext();
  } catch {
    // no audio output: offers still show
  }
}

function startRinging(): void {
  try {
    ringCtx ??= new AudioContext();
    const ctx = ringCtx;
    void ctx.resume().catch(() => undefined);
    const out = ctx.createGain();
    out.gain.value = 0.06;
    out.connect(ctx.destination);
    ringOut = out;
    const burst = () => {
      for (const f of [440, 480]) {
        const osc = ctx.createOscillator();
        osc.frequency.value = f;
        osc.connect(out);
        osc.start();
        osc.stop(ctx.currentTime + 1.5);
      }
    };
    burst();
    ringTimer = setInterval(burst, 4000);
  } catch {
    // no audio output: the offer still shows
  }
}

function stopRinging(): void {
  if (ringTimer !== undefined) clearInterval(ringTimer);
  ringTimer = undefined;
  ringOut?.disconnect();
  ringOut = undefined;
}

/** For tests and diagnostics: inbound audio figures of the current call, and its cards with their receipt times. */
(window as unknown as { evxAgent: unknown }).evxAgent = { stats: () => peer?.inboundStats(), cards: () => cardPanel.cards() };

tokenInput.value = new URLSearchParams(location.hash.slice(1)).get('token') ?? sessionStorage.getItem(TOKEN_KEY) ?? '';
if (location.hash !== '') history.replaceState(null, '', location.pathname); // keep the token out of history
// Chats (agentChats.ts) on the same agent token.
const chats = new AgentChats({
  root: $('chats'),
  status: $('chats-status'),
  offers: $('chat-offers'),
  held: $('chat-held'),
  callChat: $('call-chat'),
  callLog: $('call-chat-log'),
});
chats.setToken(token());
tokenInput.onchange = () => {
  chats.setToken(token());
  void connectPresence();
};
joinBtn.onclick = () => {
  const id = joinInput.value.trim();
  if (id !== '') void answer(id);
};
hangBtn.onclick = () => void peer?.hangup();
holdBtn.onclick = () => void toggleHold();
transferBtn.onclick = () => void transfer();
whisperBtn.onclick = () => void whisper();
muteBtn.onclick = () => {
  const track = mic?.getAudioTracks()[0];
  if (track === undefined) return;
  track.enabled = !track.enabled;
  muteBtn.textContent = track.enabled ? t('softphone:mute') : t('softphone:unmute');
  muteBtn.setAttribute('aria-pressed', String(!track.enabled));
};
setState('idle', t('softphone:loadingCalls'));
clearOffer();
void connectPresence();
void refreshQueue();
setInterval(() => void refreshQueue(), 2000);
