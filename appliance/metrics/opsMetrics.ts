/**
 * Series for central operations from what the box already computes (never a second computation):
 * QA scorecards, open supervisor alerts, the service-level target and thresholds, the data disk. Labels: group ids (configuration) and severities; never call, agent
 * or caller ids.
 */
import { statfsSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertRecord } from '../alerts/repo.js';
import type { ApplianceEvent } from '../events/appEvents.js';
import type { QaSummaryRow } from '../qa/repo.js';

/** How many open alerts one scrape counts at most (the console lists far fewer). */
const OPEN_ALERTS_SCAN = 10_000;

/**
 * QA of scored calls: calls scored (a score computed) and calls that passed, counted from the QA
 * service's `qa.scored` events since the process started (so retention purging old scorecards
 * never makes them go down), by skill group; and the pass ratio of the scorecards the store holds
 * now (qa/repo.ts's summary per group).
 */
export function bindQa(
  registry: Registry,
  repo: { summary(by: 'group', fromMs: number, toMs: number): QaSummaryRow[] },
  bus: { subscribe(listener: (e: ApplianceEvent) => void): () => void },
): void {
  const scored = new Counter({
    name: 'edgevox_qa_calls_scored_total',
    help: 'Calls the QA rules scored, by skill group (none: not queued to a group)',
    labelNames: ['group'],
    registers: [registry],
  });
  const passed = new Counter({
    name: 'edgevox_qa_calls_passed_total',
    help: 'Scored calls at or above qa.passScore, by skill group',
    labelNames: ['group'],
    registers: [registry],
  });
  bus.subscribe((e) => {
    if (e.type !== 'qa.scored' || e.score === null) return;
    const labels = { group: e.groupId ?? 'none' };
    scored.inc(labels);
    if (e.passed === true) passed.inc(labels);
    else passed.inc(labels, 0);
  });
  new Gauge({
    name: 'edgevox_qa_pass_ratio',
    help: 'Passed / scored calls of the scorecards kept in the store, by skill group (absent while none is scored)',
    labelNames: ['group'],
    registers: [registry],
    collect() {
      try {
        const rows = repo.summary('group', 0, Number.MAX_SAFE_INTEGER);
        this.reset();
        for (const r of rows) if (r.passRate !== null) this.set({ group: r.key ?? 'none' }, r.passRate);
      } catch {
        // the store is closing or failing: the last values stay
      }
    },
  });
}

/** Open (unacknowledged) supervisor alerts by severity, read from the alerts store at scrape time. */
export function bindOpenAlerts(
  registry: Registry,
  source: { list(q: { limit: number; unacknowledged?: boolean | undefined }): AlertRecord[] },
): void {
  new Gauge({
    name: 'edgevox_alerts_open',
    help: 'Supervisor alerts not yet acknowledged, by severity',
    labelNames: ['severity'],
    registers: [registry],
    collect() {
      try {
        const counts = { info: 0, warning: 0, critical: 0 };
        for (const a of source.list({ limit: OPEN_ALERTS_SCAN, unacknowledged: true })) counts[a.severity]++;
        for (const [severity, n] of Object.entries(counts)) this.set({ severity }, n);
      } catch {
        // the store is closing or failing: the last values stay
      }
    },
  });
}

/**
 * The service-level target ratio (acd.serviceLevelTarget), and the threshold T (answered within T
 * seconds) each group is measured against and the overall one (acd.serviceLevelS), as configured;
 * the KPI engine uses the same settings.
 */
export function bindServiceLevelThreshold(
  registry: Registry,
  source: () => { overallS: number; groups: ReadonlyMap<string, number>; target: number },
): void {
  new Gauge({
    name: 'edgevox_acd_service_level_target_ratio',
    help: 'Target service-level ratio (acd.serviceLevelTarget) the service level is compared against',
    registers: [registry],
    collect() {
      this.set(source().target);
    },
  });
  new Gauge({
    name: 'edgevox_acd_service_level_threshold_seconds',
    help: 'Service-level threshold T: a call answered within T seconds counts as within service level',
    labelNames: ['scope', 'group'],
    registers: [registry],
    collect() {
      this.reset();
      const t = source();
      this.set({ scope: 'overall' }, t.overallS);
      for (const [group, s] of t.groups) this.set({ scope: 'group', group }, s);
    },
  });
}

/** Free and total space of the file system holding the data directory (the store, recordings, backups), read at scrape time. */
export function bindDataDisk(registry: Registry, dataDir: string): void {
  const read = (pick: (s: { bavail: number; blocks: number; bsize: number }) => number) =>
    function (this: Gauge) {
      try {
        const s = statfsSync(dataDir);
        this.set(pick(s) * s.bsize);
      } catch {
        // the directory is gone or unreadable: the last value stays
      }
    };
  new Gauge({
    name: 'edgevox_data_filesystem_avail_bytes',
    help: 'Space an unprivileged process can still use on the file system of the data directory',
    registers: [registry],
    collect: read((s) => s.bavail),
  });
  new Gauge({
    name: 'edgevox_data_filesystem_size_bytes',
    help: 'Size of the file system of the data directory',
    registers: [registry],
    collect: read((s) => s.blocks),
  });
}
