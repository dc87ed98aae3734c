/**
 * The ops provisioning (provisioning/prometheus, provisioning/grafana) against a running box: its
 * /metrics passes `promtool check metrics`, every metric a rule expression or a dashboard query
 * uses is one the box exports, and the rules pass `promtool check rules` and `promtool test rules`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Appliance } from '../../../appliance/app/app.js';
import { startTestAppliance } from '../../helpers/appliance.js';

const PROMETHEUS = join(process.cwd(), 'provisioning/prometheus');
const RULES = join(PROMETHEUS, 'edgevox-rules.yml');
const RULE_TESTS = join(PROMETHEUS, 'edgevox-rules.test.yml');
const DASHBOARD = join(process.cwd(), 'provisioning/grafana/edgevox-dashboard.json');
/** Series Prometheus itself writes for each scrape target, not the box. */
const SCRAPE_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** Metric names a PromQL expression selects (the parser's vector selectors); throws on a syntax error. */
function metricNames(expr: string): string[] {
  const names: string[] = [];
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.type.isError) throw new Error(`PromQL syntax error at ${cursor.from} in: ${expr}`);
    if (cursor.name === 'Identifier' && cursor.node.parent?.name === 'VectorSelector') names.push(expr.slice(cursor.from, cursor.to));
    if (cursor.name === 'UnquotedLabelMatcher' || cursor.name === 'QuotedLabelMatcher') {
      const m = /^\s*"?__name__"?\s*=\s*"([^"]+)"/.exec(expr.slice(cursor.from, cursor.to));
      if (m) names.push(m[1]!);
    }
  } while (cursor.next());
  return names;
}

/** Names the exposition declares (`# TYPE`), with the _bucket/_sum/_count series of histograms and summaries. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}
interface Dashboard {
  title: string;
  uid: string;
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
  panels: { id: number; type: string; title: string; datasource?: { uid: string }; targets?: { expr: string; refId: string }[] }[];
}

const rules = parseYaml(readFileSync(RULES, 'utf8')) as RuleFile;
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const recorded = new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record === undefined ? [] : [r.record]))));

/** Grafana's template variables ($instance, ${group}, [$__rate_interval]) as a Prometheus server sees them after substitution. */
function substituted(expr: string): string {
  return expr.replace(/\$__(rate_)?interval/g, '5m').replace(/\$\{?\w+\}?/g, 'x');
}

describe('ops provisioning against a running box', () => {
  let app: Appliance;
  let exposition = '';

  beforeAll(async () => {
    ({ app } = await startTestAppliance({
      console: { enabled: false },
      webrtc: { enabled: false },
      acd: { mode: 'acd' },
      qa: { enabled: true },
      sip: { trunks: [{ name: 'carrier', host: '127.0.0.1', port: 9, transport: 'udp' }] },
    }));
    expect((await fetch(`${app.httpUrl}/readyz`)).status).toBe(200);
    exposition = await (await fetch(`${app.httpUrl}/metrics`)).text();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('exports the contact-centre, QA, alert and worker series, and passes promtool check metrics', () => {
    expect(exposition).toContain('# TYPE edgevox_asr_worker_restarts_total counter');
    expect(exposition).not.toMatch(/^# TYPE edgevox_asr_worker_restarts gauge$/m);
    expect(exposition).toMatch(/^edgevox_acd_calls_waiting\{scope="overall"\} 0$/m);
    expect(exposition).toMatch(/^edgevox_acd_longest_waiting_seconds\{scope="overall"\} 0$/m);
    expect(exposition).toMatch(/^edgevox_acd_agents\{scope="overall",state="available"\} 0$/m);
    expect(exposition).toMatch(/^edgevox_acd_service_level_target_ratio 0\.8$/m);
    expect(exposition).toMatch(/^edgevox_acd_service_level_threshold_seconds\{scope="overall"\} 20$/m);
    expect(exposition).toMatch(/^edgevox_alerts_open\{severity="critical"\} 0$/m);
    expect(exposition).toMatch(/^edgevox_acd_callbacks_pending 0$/m);
    expect(exposition).toMatch(/^edgevox_data_filesystem_avail_bytes [1-9]\d*$/m);
    expect(exposition).toMatch(/^edgevox_data_filesystem_size_bytes [1-9]\d*$/m);
    expect(exposition).toContain('# TYPE edgevox_qa_calls_scored_total counter');
    expect(exposition).toContain('# TYPE edgevox_qa_pass_ratio gauge');
    // every counter is named _total, and no gauge is
    for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (type === 'gauge') expect(name).not.toMatch(/_total$/);
    }
    // no call, agent or caller identities as label names
    const labelNames = new Set([...exposition.matchAll(/[{,]([a-zA-Z_]\w*)="/g)].map((m) => m[1]!));
    for (const l of labelNames) expect(l).not.toMatch(/call|caller|agent|phone|number|user|name/i);
    expect(execFileSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' })).toBe('');
  });

  it('uses in every rule expression only metrics the box exports', () => {
    const exported = exportedNames(exposition);
    const missing: string[] = [];
    let checked = 0;
    for (const g of rules.groups)
      for (const r of g.rules)
        for (const name of metricNames(r.expr)) {
          checked++;
          if (!exported.has(name) && !recorded.has(name) && !SCRAPE_SERIES.has(name)) missing.push(`${r.alert ?? r.record}: ${name}`);
        }
    expect(checked).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  it('uses in every dashboard query only metrics the box exports (or the rules record)', () => {
    const exported = exportedNames(exposition);
    const missing: string[] = [];
    const used = new Set<string>();
    const queries = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${p.title}/${t.refId}`, expr: t.expr }))),
      ...dashboard.templating.list
        .filter((v) => v.type === 'query')
        .map((v) => ({ where: `$${v.name}`, expr: /label_values\((.*),\s*\w+\)$/.exec(v.definition ?? '')?.[1] ?? '' })),
    ];
    for (const q of queries) {
      expect(q.expr, q.where).not.toBe('');
      for (const name of metricNames(substituted(q.expr))) {
        used.add(name);
        if (!exported.has(name) && !recorded.has(name)) missing.push(`${q.where}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
    // the panels the dashboard promises
    for (const name of [
      'edgevox_calls_started_total',
      'edgevox_acd_calls_waiting',
      'edgevox_acd_interval_service_level_ratio',
      'edgevox_acd_calls_abandoned_total',
      'edgevox_acd_agents',
      'edgevox_asr_lag_max_seconds',
      'edgevox_asr_worker_restarts_total',
      'edgevox_qa_pass_ratio',
      'edgevox_alerts_total',
      'edgevox_acd_callbacks_pending',
      'edgevox_http_requests_total',
      'edgevox_data_filesystem_avail_bytes',
    ])
      expect(used).toContain(name);
  });
});

describe('the dashboard and the rules as files', () => {
  it('is a Grafana dashboard with a templated data source and instance', () => {
    expect(dashboard.uid).toBe('edgevox-overview');
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    expect(vars.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(vars.get('instance')).toMatchObject({ type: 'query' });
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.expr, p.title).toMatch(/instance=~"\$instance"/);
    }
  });

  it('finds the metric names of PromQL expressions', () => {
    expect(
      metricNames(
        'sum by (le) (rate(a_bucket{job="x", le!="1"}[5m])) / on (instance) group_left () b:rec > 0 unless up or {__name__="c"}',
      ).sort(),
    ).toEqual(['a_bucket', 'b:rec', 'c', 'up']);
    expect(() => metricNames('sum(rate(a[5m])')).toThrow(/syntax/);
  });

  it('passes promtool check rules and promtool test rules', () => {
    expect(execFileSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' })).toMatch(/SUCCESS: \d+ rules found/);
    expect(execFileSync('promtool', ['test', 'rules', RULE_TESTS], { encoding: 'utf8', cwd: PROMETHEUS })).toMatch(/SUCCESS/);
  });
});
