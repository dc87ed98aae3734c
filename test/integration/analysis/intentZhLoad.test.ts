/**
 * The analysis start-up on a real model store: the Chinese intent model installed from the
 * repository's manifest entry loads beside the English one, and the one intent analyser answers
 * Mandarin finals with zh. labels and English finals with BANKING77 labels.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnalysis, type AnalysisRuntime } from '../../../appliance/analysis/loader.js';
import type { UtteranceContext } from '../../../appliance/calls/analysis.js';
import { ModelStore } from '../../../appliance/modelstore/modelStore.js';
import { testConfig } from '../../helpers/appliance.js';
import { REPO_ROOT, scratchDir } from '../../helpers/paths.js';

const ctx = (text: string, language?: 'zh'): UtteranceContext => ({
  callId: 'c',
  legId: 'l',
  speaker: 'caller',
  utteranceId: 1,
  text,
  ...(language !== undefined ? { language } : {}),
  startMs: 0,
  endMs: 1000,
  audio: new Int16Array(0),
  sampleRateHz: 8000,
});

describe('startAnalysis with the Chinese intent model', () => {
  let runtime: AnalysisRuntime;
  beforeAll(async () => {
    const root = scratchDir('intent-zh-store');
    const real = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'manifest.json'), 'utf8')) as {
      version: number;
      models: { name: string }[];
    };
    const manifestPath = join(root, 'manifest.json');
    // Only our own (origin repo) intent models: the store installs them from this checkout.
    writeFileSync(
      manifestPath,
      JSON.stringify({ ...real, models: real.models.filter((m) => m.name === 'intent' || m.name === 'intent-zh') }),
    );
    const models = new ModelStore({ manifestPath, modelsDir: join(root, 'none'), repoRoot: REPO_ROOT, storeDir: join(root, 'store') });
    const installed = models.installAll();
    expect(installed.map((s) => [s.name, s.activeVersion !== null])).toEqual([
      ['intent', true],
      ['intent-zh', true],
    ]);
    runtime = await startAnalysis({ models, config: testConfig(), logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await runtime?.close();
  });

  it('loads both models and routes each final to the model of its language', async () => {
    expect(runtime.intent).not.toBeNull();
    expect(runtime.intentZh?.labels).toContain('zh.hotel');
    const analyser = runtime.analysers.find((a) => a.name === 'intent')!;
    expect(await analyser.analyse(ctx('帮我订一家离故宫近的酒店', 'zh'))).toMatchObject({ intent: 'zh.hotel' });
    expect(await analyser.analyse(ctx('my card has not arrived yet'))).toMatchObject({ intent: 'card_arrival' });
  });
});
