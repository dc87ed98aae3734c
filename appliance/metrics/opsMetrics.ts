/**
 * Series for central operations that read existing stores at scrape time (never a second
 * computation): QA scorecards, open supervisor alerts, and the service-level threshold each skill
 * group is measured against. Labels: group ids (configuration) and severities; never call, agent
 * or caller ids.
 */
import { statfsSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertRecord } from '../alerts/repo.js';
import type { QaSummaryRow } from '../qa/repo.js';

/** How many open alerts one scrape counts at most (the console lists far fewer). */
const OPEN_ALERTS_SCAN = 10_000;

/**
 * QA of scored calls (qa/repo.ts's summary of every stored scorecard, per skill group): calls
 * scored and calls that passed since the store began, and the pass ratio of the scored calls.
 */
export function bindQa(registry: Registry, source: { summary(by: 'group', fromMs: number, toMs: number): QaSummaryRow[] }): void {
  let memo: { at: number; rows: QaSummaryRow[] } | null = null;
  // One read serves the three series of a scrape.
  const rows = (): QaSummaryRow[] => {
    const at = Date.now();
    if (memo === null || at - memo.at > 1000) memo = { at, rows: source.summary('group', 0, Number.MAX_SAFE_INTEGER) };
    return memo.rows;
  };
  const each = (put: (labels: { group: string }, row: QaSummaryRow) => void): void => {
    try {
      for (const row of rows()) put({ group: row.key ?? 'none' }, row);
    } catch {
      // the store is closing or failing: nothing this scrape
    }
  };
  new Counter({
    name: 'edgevox_qa_calls_scored_total',
    help: 'Calls the QA rules scored, by skill group (none: not queued to a group)',
    labelNames: ['group'],
    registers: [registry],
    collect() {
      this.reset();
      each((l, r) => this.inc(l, r.scored));
    },
  });
  new Counter({
    name: 'edgevox_qa_calls_passed_total',
    help: 'Scored calls at or above qa.passScore, by skill group',
    labelNames: ['group'],
    registers: [registry],
    collect() {
      this.reset();
      each((l, r) => this.inc(l, r.passed));
    },
  });
  new Gauge({
    name: 'edgevox_qa_pass_ratio',
    help: 'Passed / scored calls since the store began, by skill group (absent while none is scored)',
    labelNames: ['group'],
    registers: [registry],
    collect() {
      this.reset();
      each((l, r) => {
        if (r.passRate !== null) this.set(l, r.passRate);
      });
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
