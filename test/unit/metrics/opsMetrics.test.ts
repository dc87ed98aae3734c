import { describe, expect, it } from 'vitest';
import type { PoolStats } from '../../../appliance/asr/pool/pool.js';
import { ApplianceMetrics } from '../../../appliance/metrics/metrics.js';
import type { AlertRecord } from '../../../appliance/alerts/repo.js';
import { summarise, type ScorecardRecord } from '../../../appliance/qa/repo.js';
import { EventBus } from '../../../appliance/events/appEvents.js';

const metrics = (): ApplianceMetrics => new ApplianceMetrics({ version: 't', nodeVersion: 'v20', commit: 'c' });
const text = async (m: ApplianceMetrics): Promise<string> => (await m.exposition()).body;

describe('ops metrics', () => {
  it('counts recognition worker restarts with a counter named _total', async () => {
    const m = metrics();
    const workers = [
      { index: 0, streams: 1, restarts: 2, hangs: 1, requestTimeouts: 0, heapUsedBytes: 1, externalBytes: 1 },
      { index: 1, streams: 0, restarts: 0, hangs: 0, requestTimeouts: 3, heapUsedBytes: 1, externalBytes: 1 },
    ];
    m.bindSpeechPool({ stats: () => ({ workers }) as unknown as PoolStats });
    const body = await text(m);
    expect(body).toContain('# TYPE edgevox_asr_worker_restarts_total counter');
    expect(body).toMatch(/^edgevox_asr_worker_restarts_total\{worker="0"\} 2$/m);
    expect(body).not.toMatch(/^# TYPE edgevox_asr_worker_restarts gauge$/m);
    expect(body).toContain('# TYPE edgevox_asr_worker_request_timeouts_total counter');
    expect(body).toMatch(/^edgevox_asr_worker_request_timeouts_total\{worker="1"\} 3$/m);
    expect(body).toContain('# TYPE edgevox_asr_worker_hangs_total counter');
    expect(body).toMatch(/^edgevox_asr_worker_hangs_total\{worker="0"\} 1$/m);
  });

  it('counts QA scored and passed calls per group from the qa.scored events, and the pass ratio from the repo summary', async () => {
    const m = metrics();
    const card = (callId: string, passed: boolean | null, groupId: string | null): ScorecardRecord => ({
      callId,
      scoredAt: 1,
      callStartedAt: 1,
      rulesVersion: 1,
      score: passed === null ? null : passed ? 90 : 40,
      passed,
      agentLabel: 'agent-secret',
      groupId,
      results: [],
    });
    const cards = [card('c1', true, 'sales'), card('c2', false, 'sales'), card('c3', true, 'sales'), card('c4', null, null)];
    // the store keeps fewer scorecards than were scored (retention purged one): the ratio follows the store
    const stored = cards.slice(1);
    const bus = new EventBus();
    m.bindQa(
      {
        summary: () => [
          summarise(
            'sales',
            stored.filter((c) => c.groupId === 'sales'),
          ),
          summarise(
            null,
            stored.filter((c) => c.groupId === null),
          ),
        ],
      },
      bus,
    );
    for (const c of cards)
      bus.publish({
        type: 'qa.scored',
        at: 1,
        callId: c.callId,
        score: c.score,
        passed: c.passed,
        rulesVersion: 1,
        failedRules: [],
        agentLabel: c.agentLabel,
        groupId: c.groupId,
      });
    await new Promise((r) => setImmediate(r));
    const body = await text(m);
    expect(body).toMatch(/^edgevox_qa_calls_scored_total\{group="sales"\} 3$/m);
    expect(body).toMatch(/^edgevox_qa_calls_passed_total\{group="sales"\} 2$/m);
    expect(body).toMatch(/^edgevox_qa_pass_ratio\{group="sales"\} 0\.5$/m);
    expect(body).not.toMatch(/^edgevox_qa_calls_scored_total\{group="none"\}/m);
    expect(body).not.toMatch(/^edgevox_qa_pass_ratio\{group="none"\}/m);
    expect(body).not.toContain('secret');
  });

  it('exports open alerts by severity and the service-level threshold per group', async () => {
    const m = metrics();
    const alert = (severity: AlertRecord['severity'], acknowledgedAt: number | null): AlertRecord => ({
      id: 1,
      at: 1,
      callId: 'call-secret',
      kind: 'anger',
      severity,
      message: 'm',
      details: {},
      state: acknowledgedAt === null ? 'open' : 'acknowledged',
      assignedTo: null,
      acknowledgedAt,
      acknowledgedBy: null,
      resolvedAt: null,
      resolvedBy: null,
      updatedAt: null,
    });
    const all = [alert('critical', null), alert('critical', null), alert('warning', 5), alert('info', null)];
    m.bindOpenAlerts({ list: (q) => all.filter((a) => !q.unacknowledged || a.acknowledgedAt === null) });
    m.bindServiceLevelThreshold(() => ({ overallS: 20, groups: new Map([['billing', 30]]), target: 0.85 }));
    const body = await text(m);
    expect(body).toMatch(/^edgevox_alerts_open\{severity="critical"\} 2$/m);
    expect(body).toMatch(/^edgevox_alerts_open\{severity="warning"\} 0$/m);
    expect(body).toMatch(/^edgevox_alerts_open\{severity="info"\} 1$/m);
    expect(body).not.toContain('call-secret');
    expect(body).toMatch(/^edgevox_acd_service_level_threshold_seconds\{scope="overall"\} 20$/m);
    expect(body).toMatch(/^edgevox_acd_service_level_target_ratio 0\.85$/m);
    expect(body).toMatch(/^edgevox_acd_service_level_threshold_seconds\{scope="group",group="billing"\} 30$/m);
  });
});
