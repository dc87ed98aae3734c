/**
 * Complaint-risk phrases by language, the built-in scripts in the call's language, and the alert
 * service raising caller_complaint_risk from a caller's Mandarin (or English) finals.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AlertService } from '../../../appliance/alerts/alertService.js';
import { COMPLAINT_CATEGORIES, COMPLAINT_PHRASES, complaintCategories, complaintRisk } from '../../../appliance/alerts/phrases.js';
import { AlertsRepo } from '../../../appliance/alerts/repo.js';
import { BUILTIN_SCRIPTS, selectScript } from '../../../appliance/alerts/scripts.js';
import { EventBus, type ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { DEFAULT_RULES } from '../../../appliance/routing/types.js';
import { Store } from '../../../appliance/store/database.js';
import { scratchDir } from '../../helpers/paths.js';

describe('complaintCategories', () => {
  it('finds Chinese phrases in unpunctuated ASR text and in typed, full-width text', () => {
    expect(complaintCategories('你们这样我要投诉', 'zh')).toEqual(['complaint']);
    expect(complaintCategories('叫你们经理来跟我说', 'zh')).toEqual(['escalation']);
    expect(complaintCategories('我已经找了律师，准备起诉你们！', 'zh')).toEqual(['legal']);
    expect(complaintCategories('不退款我就打１２３１５，再发到网上曝光', 'zh')).toEqual(['legal', 'exposure', 'refund']);
    expect(complaintCategories('我要退款', 'zh')).toEqual(['refund']);
  });

  it('does not fire on routine wording that shares a character with a phrase', () => {
    expect(complaintCategories('我的客户经理姓王', 'zh')).toEqual([]);
    expect(complaintCategories('麻烦您帮我查一下余额', 'zh')).toEqual([]);
    expect(complaintCategories('there is an issue with my card', 'en')).toEqual([]);
  });

  it('uses the list of the final language only', () => {
    expect(complaintCategories('我要投诉', 'en')).toEqual([]);
    expect(complaintCategories('I want to speak to your manager', 'zh')).toEqual([]);
    expect(complaintCategories('I WANT TO SPEAK TO YOUR MANAGER OR I WILL CALL MY LAWYER', 'en')).toEqual(['escalation', 'legal']);
    expect(complaintCategories('i want to speak to your manager')).toEqual(['escalation']);
  });

  it('grades a legal or press threat critical, a manager or complaint warning, a refund alone nothing', () => {
    expect(complaintRisk(['refund'])).toBeNull();
    expect(complaintRisk(['complaint', 'refund'])).toBe('warning');
    expect(complaintRisk(['escalation'])).toBe('warning');
    expect(complaintRisk(['exposure'])).toBe('critical');
    expect(complaintRisk(['legal', 'escalation'])).toBe('critical');
  });

  it('has a list per category for both languages', () => {
    for (const lang of ['zh', 'en'] as const)
      for (const c of COMPLAINT_CATEGORIES) expect(COMPLAINT_PHRASES[lang][c].length).toBeGreaterThan(0);
  });
});

describe('built-in scripts by call language', () => {
  it('picks the Mandarin script for a Chinese call and the English one otherwise; a site script still wins', () => {
    expect(selectScript([], { kind: 'caller_angry', groupId: null, intent: null, language: 'zh' })?.id).toBe('builtin-angry-zh');
    expect(selectScript([], { kind: 'caller_escalating', groupId: null, intent: null, language: 'zh' })?.id).toBe('builtin-escalating-zh');
    expect(selectScript([], { kind: 'caller_complaint_risk', groupId: null, intent: null, language: 'zh' })?.id).toBe(
      'builtin-complaint-risk-zh',
    );
    expect(selectScript([], { kind: 'caller_angry', groupId: null, intent: null, language: 'en' })?.id).toBe('builtin-angry');
    expect(selectScript([], { kind: 'caller_angry', groupId: null, intent: null })?.id).toBe('builtin-angry');
    const site = [{ id: 'hotel', title: '酒店', when: { alertKinds: ['caller_angry'], intents: ['zh.hotel'] }, steps: ['先致歉。'] }];
    expect(selectScript(site, { kind: 'caller_angry', groupId: null, intent: 'zh.hotel', language: 'zh' })?.id).toBe('hotel');
    for (const s of BUILTIN_SCRIPTS.filter((x) => x.language === 'zh')) for (const step of s.steps) expect(step).toMatch(/\p{Script=Han}/u);
  });
});

describe("AlertService: complaint-risk alerts from the caller's finals", () => {
  let store: Store;
  let bus: EventBus;
  let service: AlertService;
  let published: Extract<ApplianceEvent, { type: 'alert' }>[];
  let now: number;

  beforeEach(() => {
    store = Store.open(scratchDir('alerts-complaint'));
    store.calls.create({ id: 'c1', source: 'sip', callerHash: null, startedAt: 1 });
    bus = new EventBus();
    now = 1_000_000;
    published = [];
    bus.subscribe((e) => {
      if (e.type === 'alert') published.push(e);
    });
    service = new AlertService({
      repo: new AlertsRepo(store.db, store.write.bind(store)),
      bus,
      logger: pino({ level: 'silent' }),
      rules: () => DEFAULT_RULES,
      scripts: () => [],
      queueWaits: () => new Map(),
      spike: { bucketMs: 60_000, baselineBuckets: 4, factor: 3, minCount: 3 },
      queueCheckMs: 60_000,
      now: () => now,
    });
  });
  afterEach(() => {
    service.close();
    store.close();
  });

  const final = (text: string, language?: 'zh' | 'en', speaker = 'caller'): ApplianceEvent => ({
    type: 'asr.final',
    at: now,
    callId: 'c1',
    legId: 'l1',
    speaker,
    utteranceId: 5,
    text,
    words: [],
    startMs: 0,
    endMs: 1000,
    confidence: 0.9,
    latencyMs: 100,
    ...(language !== undefined ? { language } : {}),
  });

  it('raises once for a Mandarin caller, upgrades once to critical, with the Chinese script and no transcript', () => {
    bus.publish(final('我要退款', 'zh'));
    expect(published).toHaveLength(0);
    bus.publish(final('不给退款我就投诉你们', 'zh'));
    bus.publish(final('叫你们经理来', 'zh'));
    bus.publish(final('我要找律师起诉你们', 'zh'));
    bus.publish(final('我还要找媒体曝光', 'zh'));
    expect(published.map((a) => [a.kind, a.severity])).toEqual([
      ['caller_complaint_risk', 'warning'],
      ['caller_complaint_risk', 'critical'],
    ]);
    expect(published[0]!.details).toMatchObject({
      categories: ['refund', 'complaint'],
      language: 'zh',
      utteranceId: 5,
      script: { id: 'builtin-complaint-risk-zh' },
    });
    expect(published[1]!.details['categories']).toEqual(['refund', 'complaint', 'escalation', 'legal']);
    const json = JSON.stringify(published);
    expect(json).not.toContain('起诉你们');
    expect(json).not.toContain('叫你们经理');
  });

  it('ignores the agent, and reads an unmarked final with the English list', () => {
    bus.publish(final('如果您要投诉，我可以帮您转接经理', 'zh', 'agent'));
    bus.publish(final('我要投诉'));
    expect(published).toHaveLength(0);
    bus.publish(final('I want to make a complaint'));
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      kind: 'caller_complaint_risk',
      severity: 'warning',
      details: { language: 'en', script: { id: 'builtin-complaint-risk' } },
    });
  });

  it('gives an angry Mandarin caller the Chinese de-escalation script', () => {
    bus.publish(final('你们怎么回事', 'zh'));
    bus.publish({
      type: 'emotion',
      at: now,
      callId: 'c1',
      legId: 'l1',
      speaker: 'caller',
      utteranceId: null,
      category: 'angry',
      confidence: 0.8,
      arousal: 0.8,
      valence: -0.6,
      scores: { angry: 0.9, neutral: 0.1 },
      agitation: 0.8,
      trend: 'steady',
      audioMs: 2000,
      latencyMs: 3,
    });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ kind: 'caller_angry', details: { script: { id: 'builtin-angry-zh' } } });
  });
});
