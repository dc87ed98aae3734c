import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntentClassifier } from '../../../appliance/intent/classifier.js';
import { defaultIntentSidecar } from '../../../appliance/intent/modelPaths.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import { loadBanking77, loadClincOos } from '../../../models/pipelines/intent/data.js';
import { evaluateIntent, type IntentMetrics } from '../../../models/pipelines/intent/evaluate.js';

const SIDECAR = defaultIntentSidecar();
const SHARED = resolve(process.env.EDGEVOX_SHARED ?? '../shared');
const BANKING = join(SHARED, 'datasets/intent/banking77');
const CLINC = join(SHARED, 'datasets/intent/clinc150');
const hasData = existsSync(join(BANKING, 'test.csv')) && existsSync(join(CLINC, 'data_full.json'));

describe('IntentClassifier (shipped model)', () => {
  let clf: IntentClassifier;
  beforeAll(async () => {
    clf = await IntentClassifier.load(SIDECAR);
  });
  afterAll(async () => {
    await clf.close();
  });

  it('reads its labels and threshold from the sidecar', () => {
    const sidecar = JSON.parse(readFileSync(SIDECAR, 'utf8')) as { labels: string[]; oosThreshold: number };
    expect(clf.labels).toEqual(sidecar.labels);
    expect(clf.labels.length).toBe(77);
    expect(clf.oosThreshold).toBe(sidecar.oosThreshold);
  });

  it('gives typed text and an ASR-style transcript the same answer', async () => {
    const typed = await clf.classify('My card payment was declined, why?');
    const asr = await clf.classify('MY CARD PAYMENT WAS DECLINED WHY');
    expect(typed.intent).toBe('declined_card_payment');
    expect(asr).toEqual(typed);
    expect(typed.top[0]).toEqual({ intent: typed.intent, confidence: typed.confidence });
    expect(typed.top.length).toBe(3);
    const sum = typed.top.reduce((s, t) => s + t.confidence, 0);
    expect(sum).toBeLessThanOrEqual(1 + 1e-6);
  });

  it('flags text with no banking meaning as out of scope, and empty text too', async () => {
    expect((await clf.classify('book a table for two at an italian restaurant')).outOfScope).toBe(true);
    expect(await clf.classify(' ?! ')).toEqual({ intent: null, confidence: 0, outOfScope: true, top: [] });
  });

  it.skipIf(!hasData)('classifies a handful of BANKING77 test utterances correctly', async () => {
    const { test } = loadBanking77(BANKING);
    for (const i of [400, 800, 2000, 2400, 2800, 3000]) {
      const e = test[i]!;
      expect((await clf.classify(e.text)).intent, `test row ${i}`).toBe(e.label);
    }
  });

  it.skipIf(!hasData)('reproduces the model card metrics (full BANKING77 test + CLINC150 oos_test)', async () => {
    const card = JSON.parse(readFileSync(join(SIDECAR, '..', 'metrics.json'), 'utf8')) as IntentMetrics;
    const m = await evaluateIntent(clf, loadBanking77(BANKING).test, loadClincOos(CLINC).oosTest);
    expect(m.accuracy).toBe(card.accuracy);
    expect(m.oosDetected).toBe(card.oosDetected);
    expect(m.inScopeRejected).toBe(card.inScopeRejected);
    expect(m.accuracy).toBeGreaterThanOrEqual(0.88);
  });

  it('refuses to classify after close()', async () => {
    const other = await IntentClassifier.load(SIDECAR);
    await other.close();
    await other.close(); // idempotent
    await expect(other.classify('hello')).rejects.toMatchObject({ code: 'EVX_ERR_STREAM_CLOSED' });
  });
});

describe('IntentClassifier contract checks', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'evx-intent-'));
    copyFileSync(join(SIDECAR, '..', 'intent.onnx'), join(dir, 'intent.onnx'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const withSidecar = (edit: (s: Record<string, unknown>) => void): string => {
    const s = JSON.parse(readFileSync(SIDECAR, 'utf8')) as Record<string, unknown>;
    edit(s);
    const path = join(dir, `intent-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(s));
    return path;
  };

  it('rejects a sidecar whose label count differs from the model output', async () => {
    const path = withSidecar((s) => {
      s.labels = (s.labels as string[]).slice(1);
    });
    const err = await IntentClassifier.load(path).catch((e: unknown) => e);
    expect(isEdgeVoxError(err, 'EVX_ERR_MODEL_CONTRACT')).toBe(true);
  });

  it('rejects a model file that does not match the sidecar hash', async () => {
    const path = withSidecar((s) => {
      s.modelSha256 = '0'.repeat(64);
    });
    const err = await IntentClassifier.load(path).catch((e: unknown) => e);
    expect(isEdgeVoxError(err, 'EVX_ERR_INTENT_SIDECAR')).toBe(true);
  });
});
