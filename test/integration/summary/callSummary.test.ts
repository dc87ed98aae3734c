/**
 * Every call is summarised when it ends: a running appliance (scripted transcripts per leg; the ASR
 * is tested elsewhere) stores a summary built from the stored, redacted utterances, serves it in the
 * call detail to a signed-in viewer and to nobody else, and never lets redacted words into it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../appliance/app/app.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import type { CallSummary } from '../../../appliance/summary/summariser.js';
import { startTestAppliance } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';

type Line = [startS: number, endS: number, text: string, language?: 'zh'];
let scripts: Record<string, Line[]> = {};

/** Emits each leg's scripted finals (recogniser style: capitals, no punctuation) when the leg closes. */
const scripted: TranscriberFactory = (opts, cb) => ({
  write: () => {},
  lagMs: () => 0,
  stats: () => ({ droppedFrames: 0, decodedMs: 0, skippedMs: 0, chunkLatencyP95Ms: 0 }),
  close: async () => {
    for (const [s, e, text, language] of scripts[opts.speaker] ?? []) {
      const tokens = language === 'zh' ? [...text] : text.split(' ');
      const words = tokens.map((word, i) => ({ word, startMs: s * 1000 + i * 100, endMs: s * 1000 + i * 100 + 80 }));
      cb.final({ text, words, startMs: s * 1000, endMs: e * 1000, confidence: 0.9, latencyMs: 100, ...(language ? { language } : {}) });
    }
  },
});

let app: Appliance;
beforeAll(async () => {
  ({ app } = await startTestAppliance({ sip: { enabled: false }, console: { enabled: false } }, { transcribers: scripted }));
});
afterAll(async () => {
  await app?.close();
});

/** Run one two-leg call and wait for its summary in the call detail. */
async function runCall(): Promise<{ callId: string; detail: { summary: CallSummary | null; utterances: { text: string }[] } }> {
  const call = app.calls.startCall({ source: 'sip' });
  call.answer();
  call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
  call.addLeg({ label: 'agent', codec: 'PCMU', sampleRateHz: 8000 });
  await call.end('bye');
  const api = authedFetch(app, 'viewer');
  for (let i = 0; i < 100; i++) {
    const res = await api(`/api/v1/calls/${call.id}`);
    expect(res.status).toBe(200);
    const detail = (await res.json()) as { summary: CallSummary | null; utterances: { text: string }[] };
    if (detail.summary !== null) return { callId: call.id, detail };
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no summary');
}

describe('post-call summary', () => {
  it('is stored at the end of the call from the redacted transcript, with the promise and its time', async () => {
    scripts = {
      caller: [
        [1, 4, 'HI MY NAME IS JOHN SMITH AND I LOST MY CARD'],
        [5, 9, 'THE NUMBER IS FOUR ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE'],
        [14, 16, 'CAN YOU LET ME KNOW WHEN THE NEW ONE IS SENT'],
      ],
      agent: [
        [10, 13, 'THANK YOU I HAVE CANCELLED THE CARD AND ORDERED A NEW ONE'],
        [17, 20, 'I WILL CALL YOU BACK TOMORROW BY 5PM WITH THE DELIVERY DATE'],
      ],
    };
    const { callId, detail } = await runCall();
    const stored = detail.utterances.map((u) => u.text).join(' ');
    expect(stored).toContain('[NAME]');
    expect(stored).toContain('[CARD]');

    const s = detail.summary!;
    expect(s.outcome).toBe('follow_up');
    expect(s.followUps).toEqual([
      expect.objectContaining({ who: { role: 'agent', name: 'agent' }, when: 'tomorrow by 17:00', whenSaid: 'tomorrow by 5pm' }),
    ]);
    expect(s.actions.map((a) => a.kind)).toEqual(['done', 'promised']);
    expect(s.asked).toEqual(['Can you let me know when the new one is sent']);
    expect(s.text).toContain('Agent cancelled the card and ordered a new one.');

    // Redacted words never reach the summary: not in the API, not in the stored row.
    const row = app.store.db.prepare('SELECT summary_json, outcome FROM call_summaries WHERE call_id = ?').get(callId) as {
      summary_json: string;
      outcome: string;
    };
    expect(row.outcome).toBe('follow_up');
    for (const text of [JSON.stringify(s), row.summary_json]) {
      expect(text).not.toMatch(/john|smith/i);
      expect(text).not.toMatch(/\bone one\b/i);
      expect(text).not.toMatch(/\bfour\b/i);
    }
    expect(s.reason.text).toContain('[NAME]');
  });

  it('is served with the call detail only to a signed-in role that may read calls', async () => {
    scripts = { caller: [[1, 3, 'I WANT TO CLOSE MY ACCOUNT PLEASE']], agent: [[4, 6, 'I AM TRANSFERRING YOU NOW TO ACCOUNT SERVICES']] };
    const { callId, detail } = await runCall();
    expect(detail.summary).toMatchObject({ outcome: 'transferred', outcomeBasis: 'transfer_cue' });
    expect((await fetch(`${app.httpUrl}/api/v1/calls/${callId}`)).status).toBe(401);
    expect((await authedFetch(app, 'kiosk')(`/api/v1/calls/${callId}`)).status).toBe(403);
    const tech = (await (await authedFetch(app, 'technician')(`/api/v1/calls/${callId}`)).json()) as { summary: CallSummary };
    expect(tech.summary.outcome).toBe('transferred');
  });

  it('a call ended as transferred on the call record is transferred', async () => {
    scripts = { caller: [[1, 3, 'MY TRANSFER HAS NOT ARRIVED']], agent: [[4, 6, 'LET ME CHECK THAT FOR YOU']] };
    const call = app.calls.startCall({ source: 'sip' });
    call.answer();
    call.addLeg({ label: 'caller', codec: 'PCMU', sampleRateHz: 8000 });
    call.addLeg({ label: 'agent', codec: 'PCMU', sampleRateHz: 8000 });
    await call.end('transferred');
    for (let i = 0; i < 100 && app.store.db.prepare('SELECT 1 FROM call_summaries WHERE call_id = ?').get(call.id) === undefined; i++)
      await new Promise((r) => setTimeout(r, 20));
    const detail = (await (await authedFetch(app, 'viewer')(`/api/v1/calls/${call.id}`)).json()) as { summary: CallSummary };
    expect(detail.summary).toMatchObject({ outcome: 'transferred', outcomeBasis: 'transfer_record' });
  });

  it('summarises a Mandarin call in Chinese, with the phone number and name redacted out of it', async () => {
    scripts = {
      caller: [
        [1, 4, '你好我的银行卡丢了想挂失一下', 'zh'],
        [5, 8, '我叫王小明手机号是一三八一二三四五六七八', 'zh'],
      ],
      agent: [
        [9, 11, '好的我已经帮您把这张卡挂失了', 'zh'],
        [12, 15, '我会在明天下午五点前给您回电话', 'zh'],
      ],
    };
    const { callId, detail } = await runCall();
    const stored = detail.utterances.map((u) => u.text).join(' ');
    expect(stored).not.toContain('王小明');
    expect(stored).not.toContain('一三八一二三四五六七八');
    const s = detail.summary!;
    expect(s.language).toBe('zh');
    expect(s.reason).toMatchObject({ intent: 'lost_or_stolen_card', source: 'lexicon' });
    expect(s.outcome).toBe('follow_up');
    expect(s.followUps).toEqual([expect.objectContaining({ who: { role: 'agent', name: '坐席' }, when: 'tomorrow by 17:00' })]);
    expect(s.text.endsWith('需跟进。')).toBe(true);
    const row = app.store.db.prepare('SELECT summary_json FROM call_summaries WHERE call_id = ?').get(callId) as { summary_json: string };
    for (const text of [JSON.stringify(s), row.summary_json]) {
      expect(text).not.toContain('王小明');
      expect(text).not.toContain('一三八一二三四五六七八');
    }
  });
});
