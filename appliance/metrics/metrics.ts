/**
 * Prometheus metrics. This folder is the only place that imports prom-client: core modules emit
 * typed events and the bindings here turn them into metrics. Names follow the Prometheus rules
 * (base units, `_total` counters, `_seconds`), and labels never carry ids, numbers or names.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Readiness } from '../lifecycle/readiness.js';
import type { Store } from '../store/database.js';
import type { ModelStore } from '../modelstore/modelStore.js';
import type { CallManager } from '../calls/callManager.js';
import type { EventBus } from '../events/appEvents.js';
import type { SipServer } from '../telephony/sip-server.js';
import type { RegistrarCounters } from '../telephony/registrar.js';
import { activeExecutionProviders } from '../inference/sessions.js';
import type { PoolStats } from '../asr/pool/pool.js';
import type { KpiSnapshot } from '../acd/kpis.js';
import type { AcdEvents } from '../acd/acdCalls.js';
import type { SupervisionEvents } from '../acd/supervision.js';
import * as acd from './acdMetrics.js';
import { bindChannels } from './channelMetrics.js';
import type { ChannelKpiSnapshot } from '../conversations/channelKpis.js';
import * as ops from './opsMetrics.js';
import * as telephony from './telephonyMetrics.js';
import type { TypedEmitter } from '../events/typedEmitter.js';

export interface BuildInfo {
  version: string;
  nodeVersion: string;
  commit: string;
}

export class ApplianceMetrics {
  readonly registry = new Registry();
  readonly up: Gauge;
  readonly storeWriteSeconds: Histogram;
  readonly storeWriteErrors: Counter;
  readonly listenerErrors: Counter;
  readonly httpRequests: Counter;
  readonly httpRequestSeconds: Histogram;
  readonly httpAccessDenied: Counter;
  readonly onnxProvider: Gauge;
  readonly eventsDropped: Counter;

  constructor(build: BuildInfo) {
    collectDefaultMetrics({ register: this.registry });
    replaceMisnamedDefaults(this.registry);
    new Gauge({
      name: 'edgevox_build_info',
      help: 'Build information; the value is always 1',
      labelNames: ['version', 'node_version', 'commit'],
      registers: [this.registry],
    }).set({ version: build.version, node_version: build.nodeVersion, commit: build.commit }, 1);
    this.up = new Gauge({ name: 'edgevox_up', help: '1 while the appliance process is serving', registers: [this.registry] });
    this.storeWriteSeconds = new Histogram({
      name: 'edgevox_store_write_duration_seconds',
      help: 'Duration of SQLite writes',
      labelNames: ['operation'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [this.registry],
    });
    this.storeWriteErrors = new Counter({
      name: 'edgevox_store_write_errors_total',
      help: 'SQLite writes that failed (disk full, I/O error)',
      labelNames: ['operation', 'sqlite_code'],
      registers: [this.registry],
    });
    this.listenerErrors = new Counter({
      name: 'edgevox_event_listener_errors_total',
      help: 'Event listeners that threw (contained; the emitter carried on)',
      labelNames: ['event'],
      registers: [this.registry],
    });
    this.httpRequests = new Counter({
      name: 'edgevox_http_requests_total',
      help: 'HTTP API requests by route pattern and status class',
      labelNames: ['method', 'route', 'status_class'],
      registers: [this.registry],
    });
    this.httpAccessDenied = new Counter({
      name: 'edgevox_http_access_denied_total',
      help: 'HTTP requests and WebSocket upgrades refused by the access guard, by reason',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.httpRequestSeconds = new Histogram({
      name: 'edgevox_http_request_duration_seconds',
      help: 'HTTP API request duration by route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [this.registry],
    });
    this.eventsDropped = new Counter({
      name: 'edgevox_events_dropped_total',
      help: 'Events not sent to a slow /api/v1/events client (its buffer was full)',
      registers: [this.registry],
    });
    this.onnxProvider = new Gauge({
      name: 'edgevox_inference_provider_active',
      help: 'Execution providers with at least one model loaded (1 = active)',
      labelNames: ['provider'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of activeExecutionProviders()) this.set({ provider: p }, 1);
      },
    });
  }

  bindStore(store: Store): void {
    store.events.on('write', (e) => this.storeWriteSeconds.observe({ operation: e.operation }, e.durationMs / 1000));
    store.events.on('writeError', (e) => this.storeWriteErrors.inc({ operation: e.operation, sqlite_code: e.sqliteCode }));
  }

  bindReadiness(readiness: Readiness): void {
    const registry = this.registry;
    new Gauge({
      name: 'edgevox_ready',
      help: '1 when every readiness check passes (what /readyz reports)',
      registers: [registry],
      collect() {
        this.set(readiness.evaluate().ready ? 1 : 0);
      },
    });
    new Gauge({
      name: 'edgevox_readiness_check',
      help: 'State of each readiness check (1 = ok)',
      labelNames: ['check'],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of readiness.evaluate().checks) this.set({ check: c.name }, c.ok ? 1 : 0);
      },
    });
  }

  bindModels(models: ModelStore): void {
    new Gauge({
      name: 'edgevox_model_active',
      help: 'Whether a verified version of each model is active (1 = yes)',
      labelNames: ['model'],
      registers: [this.registry],
      collect() {
        for (const s of models.status()) this.set({ model: s.name }, s.activeVersion === null ? 0 : 1);
      },
    });
  }

  bindCalls(calls: CallManager, bus: EventBus): void {
    const registers = [this.registry];
    new Gauge({
      name: 'edgevox_calls_active',
      help: 'Calls in progress',
      registers,
      collect() {
        this.set(calls.activeCount);
      },
    });
    new Gauge({
      name: 'edgevox_asr_lag_max_seconds',
      help: 'Worst real-time lag of any active leg (audio waiting to be recognised)',
      registers,
      collect() {
        this.set(calls.maxLagMs() / 1000);
      },
    });
    new Counter({
      name: 'edgevox_calls_rejected_total',
      help: 'Calls refused by admission control, by reason',
      labelNames: ['reason'],
      registers,
      collect() {
        // Mirrors the manager's own counters, so the figure survives any number of registries.
        this.reset();
        for (const [reason, n] of Object.entries(calls.counters.rejected)) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'edgevox_asr_stream_failures_total',
      help: 'Call legs whose speech recognition failed mid-call (the call continued without transcript)',
      registers,
      collect() {
        this.reset();
        this.inc(calls.counters.asrFailures);
      },
    });
    new Counter({
      name: 'edgevox_asr_dropped_frames_total',
      help: 'Audio frames (20 ms) dropped because recognition fell behind real time (ended legs)',
      registers,
      collect() {
        this.reset();
        this.inc(calls.counters.asrDroppedFrames);
      },
    });
    new Counter({
      name: 'edgevox_asr_audio_seconds_total',
      help: 'Audio of ended legs that went through the encoder (decoded) or was skipped as silence by the VAD',
      labelNames: ['kind'],
      registers,
      collect() {
        this.reset();
        this.inc({ kind: 'decoded' }, calls.counters.asrDecodedMs / 1000);
        this.inc({ kind: 'skipped' }, calls.counters.asrSkippedMs / 1000);
      },
    });
    new Gauge({
      name: 'edgevox_call_store_deferred_writes',
      help: 'Call data writes waiting for the store to accept them again (disk full)',
      registers,
      collect() {
        this.set(calls.deferredWrites().pending);
      },
    });
    new Counter({
      name: 'edgevox_call_store_dropped_writes_total',
      help: 'Call data writes given up (deferred queue full, or a write that can never succeed)',
      registers,
      collect() {
        this.reset();
        this.inc(calls.deferredWrites().dropped);
      },
    });
    new Counter({
      name: 'edgevox_call_store_errors_total',
      help: 'Call data that could not be stored (the call carried on)',
      registers,
      collect() {
        this.reset();
        this.inc(calls.counters.storeErrors);
      },
    });
    const ended = new Counter({ name: 'edgevox_calls_ended_total', help: 'Calls ended, by end reason', labelNames: ['reason'], registers });
    const started = new Counter({
      name: 'edgevox_calls_started_total',
      help: 'Calls started, by source and the speech language asked for (en, zh, auto)',
      labelNames: ['source', 'language'],
      registers,
    });
    const languageDecisions = new Counter({
      name: 'edgevox_call_language_decisions_total',
      help: 'Calls with language auto that decided their language, by the language decided',
      labelNames: ['language'],
      registers,
    });
    const finals = new Counter({
      name: 'edgevox_asr_finals_total',
      help: 'Final utterances recognised, by speaker and language',
      labelNames: ['speaker', 'language'],
      registers,
    });
    const partials = new Counter({ name: 'edgevox_asr_partials_total', help: 'Partial results emitted', registers });
    const dtmf = new Counter({ name: 'edgevox_dtmf_events_total', help: 'DTMF digits received', registers });
    const alerts = new Counter({
      name: 'edgevox_alerts_total',
      help: 'Alerts raised, by kind and severity',
      labelNames: ['kind', 'severity'],
      registers,
    });
    const finalLatency = new Histogram({
      name: 'edgevox_asr_final_latency_seconds',
      help: 'End of speech to final transcript',
      buckets: [0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5],
      registers,
    });
    const partialLatency = new Histogram({
      name: 'edgevox_asr_partial_latency_seconds',
      help: 'Arrival of the audio that completed a partial transcript to the partial',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5],
      registers,
    });
    const cardLatency = new Histogram({
      name: 'edgevox_assist_card_latency_seconds',
      help: "Agent assist: the caller's final to the cards' push to the agent",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1],
      registers,
    });
    const cards = new Counter({
      name: 'edgevox_assist_cards_total',
      help: 'Agent assist cards pushed to agents, by kind (article, action)',
      labelNames: ['kind'],
      registers,
    });
    const cardFeedback = new Counter({
      name: 'edgevox_assist_card_feedback_total',
      help: "Agents' verdicts on assist cards (useful, not_useful)",
      labelNames: ['verdict'],
      registers,
    });
    bus.subscribe((e) => {
      switch (e.type) {
        case 'assist.cards':
          cardLatency.observe(e.latencyMs / 1000);
          for (const c of e.cards) cards.inc({ kind: c.kind });
          break;
        case 'assist.feedback':
          cardFeedback.inc({ verdict: e.useful ? 'useful' : 'not_useful' });
          break;
        case 'call.started':
          started.inc({ source: e.source, language: languageLabel(e.language ?? 'en') });
          break;
        case 'call.ended':
          ended.inc({ reason: normaliseReason(e.reason) });
          break;
        case 'asr.final':
          finals.inc({ speaker: e.speaker === 'agent' ? 'agent' : 'caller', language: languageLabel(e.language ?? 'en') });
          finalLatency.observe(e.latencyMs / 1000);
          break;
        case 'asr.partial':
          partials.inc();
          if (e.latencyMs !== null) partialLatency.observe(e.latencyMs / 1000);
          break;
        case 'call.language':
          languageDecisions.inc({ language: languageLabel(e.language) });
          break;
        case 'dtmf':
          dtmf.inc();
          break;
        case 'alert':
          alerts.inc({ kind: e.kind, severity: e.severity });
          break;
        default:
          break;
      }
    });
  }

  /** Recognition worker threads: streams placed on each, restarts, flushes given up, and each thread's own memory. */
  bindSpeechPool(pool: { stats(): PoolStats }): void {
    const registers = [this.registry];
    type Worker = PoolStats['workers'][number];
    // Read at scrape time from the pool's last reports: a gauge per worker, or a counter for running totals.
    const perWorker = (name: string, help: string, read: (w: Worker) => number, total = false) => {
      const each = (put: (labels: { worker: string }, v: number) => void) => {
        for (const w of pool.stats().workers) put({ worker: String(w.index) }, read(w));
      };
      if (total) {
        return new Counter({
          name,
          help,
          labelNames: ['worker'],
          registers,
          collect() {
            this.reset();
            each((l, v) => this.inc(l, v));
          },
        });
      }
      return new Gauge({
        name,
        help,
        labelNames: ['worker'],
        registers,
        collect() {
          this.reset();
          each((l, v) => this.set(l, v));
        },
      });
    };
    perWorker('edgevox_asr_worker_streams', 'Recognition streams placed on each worker thread', (w) => w.streams);
    perWorker(
      'edgevox_asr_worker_restarts_total',
      'Times each recognition worker thread was restarted after a crash',
      (w) => w.restarts,
      true,
    );
    perWorker(
      'edgevox_asr_worker_hangs_total',
      'Times each recognition worker thread answered nothing for the hang timeout, or had not loaded its models within the load timeout, and was ended (each also counts as a restart)',
      (w) => w.hangs,
      true,
    );
    perWorker(
      'edgevox_asr_worker_request_timeouts_total',
      "Stream flushes each recognition worker did not answer within the pool's flush timeout (the stream was closed without its last words)",
      (w) => w.requestTimeouts,
      true,
    );
    perWorker('edgevox_asr_worker_heap_used_bytes', "Each recognition worker thread's V8 heap in use", (w) => w.heapUsedBytes);
    perWorker(
      'edgevox_asr_worker_external_memory_bytes',
      "Each recognition worker thread's memory outside its V8 heap (buffers, tensors)",
      (w) => w.externalBytes,
    );
    // Encoder batching: runs and stream chunks per worker (their ratio is the mean batch size).
    perWorker(
      'edgevox_asr_encoder_runs_total',
      'Encoder inference runs of each recognition worker (a batch of several call legs counts once; 0 with the exact encoder)',
      (w) => w.encoderBatch?.calls ?? 0,
      true,
    );
    perWorker(
      'edgevox_asr_encoder_chunks_total',
      "Call-leg chunks encoded by each worker's batched encoder (chunks / runs = mean batch size)",
      (w) => w.encoderBatch?.chunks ?? 0,
      true,
    );
  }

  /** WebRTC media plane: live gauges read at scrape time from the plane's own figures. */
  bindWebRtc(source: { activeCalls(): number; workersAlive(): number; workerDeaths(): number; sipBridges(): number }): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('edgevox_webrtc_calls', 'WebRTC calls with media on the plane', () => source.activeCalls());
    gauge('edgevox_webrtc_workers', 'mediasoup worker processes alive', () => source.workersAlive());
    gauge('edgevox_webrtc_sip_bridges', 'SIP calls bridged to a WebRTC agent right now', () => source.sipBridges());
    new Counter({
      name: 'edgevox_webrtc_worker_deaths_total',
      help: 'mediasoup worker processes that died (their calls were closed; the worker was restarted)',
      registers,
      collect() {
        this.reset();
        this.inc(source.workerDeaths());
      },
    });
  }

  /** Upstream sync: the outbox depth and what happened to each window, read at scrape time. */
  bindSync(sync: {
    status(): {
      outbox: number;
      counters: {
        windowsBuilt: number;
        accepted: number;
        duplicates: number;
        rejected: number;
        failures: number;
        dropped: number;
        withheld: number;
      };
      privacy: { budget: number; spent: number };
    };
  }): void {
    const registers = [this.registry];
    new Gauge({
      name: 'edgevox_sync_outbox_windows',
      help: 'Aggregate windows waiting in the outbox for upstream (bounded by sync.outboxMaxWindows)',
      registers,
      collect() {
        this.set(sync.status().outbox);
      },
    });
    new Counter({
      name: 'edgevox_sync_windows_built_total',
      help: 'Aggregate windows built and enqueued for upstream',
      registers,
      collect() {
        this.reset();
        this.inc(sync.status().counters.windowsBuilt);
      },
    });
    new Counter({
      name: 'edgevox_sync_windows_dropped_total',
      help: 'Oldest windows dropped from a full outbox during a long upstream outage (audited)',
      registers,
      collect() {
        this.reset();
        this.inc(sync.status().counters.dropped);
      },
    });
    new Counter({
      name: 'edgevox_sync_windows_withheld_total',
      help: 'Windows not sent because the privacy budget of the period was spent (sync.epsilonBudget)',
      registers,
      collect() {
        this.reset();
        this.inc(sync.status().counters.withheld);
      },
    });
    new Gauge({
      name: 'edgevox_sync_privacy_budget_spent',
      help: 'Epsilon the windows of the rolling budget period spent (sync.epsilonBudgetDays; 0 without noise)',
      registers,
      collect() {
        this.set(sync.status().privacy.spent);
      },
    });
    new Gauge({
      name: 'edgevox_sync_privacy_budget',
      help: 'Epsilon the windows of the rolling budget period may spend (sync.epsilonBudget)',
      registers,
      collect() {
        this.set(sync.status().privacy.budget);
      },
    });
    new Counter({
      name: 'edgevox_sync_uploads_total',
      help: 'Upload attempts of aggregate windows by outcome (failed = retried later)',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        const c = sync.status().counters;
        this.inc({ outcome: 'accepted' }, c.accepted);
        this.inc({ outcome: 'duplicate' }, c.duplicates);
        this.inc({ outcome: 'rejected' }, c.rejected);
        this.inc({ outcome: 'failed' }, c.failures);
      },
    });
  }

  /** SIP messages, refusals and RTP quality (telephony.bindSip). */
  bindSip(sip: SipServer): void {
    telephony.bindSip(this.registry, sip);
  }

  /** The SIP trunks' state (telephony.bindTrunks). */
  bindTrunks(trunks: Parameters<typeof telephony.bindTrunks>[1]): void {
    telephony.bindTrunks(this.registry, trunks);
  }

  /** Calls out through the SIP trunks (telephony.bindTrunkDialer). */
  bindTrunkDialer(source: Parameters<typeof telephony.bindTrunkDialer>[1]): void {
    telephony.bindTrunkDialer(this.registry, source);
  }

  /**
   * Contact-centre KPIs (docs/kpis.md): the real-time gauges of the KPI engine's snapshot
   * (`kpiSamples`: waiting, longest wait, agents by state, the current interval's service level,
   * ASA, AHT, ...) and call counters since start. Labels: scope (group | overall), group (the
   * operator's group ids) and agent state; never call or agent ids.
   */
  bindAcd(source: {
    snapshot(): KpiSnapshot;
    readonly counters: {
      readonly groups: ReadonlyMap<string, { offered: number; answered: number; abandoned: number; overflowedOut: number }>;
      readonly overall: { offered: number; answered: number; abandoned: number };
    };
    ignoredFacts(): number;
  }): void {
    acd.bindAcd(this.registry, source);
  }

  /** KPIs of the text channels (chat, e-mail) per channel and skill group (channelMetrics.ts). */
  bindChannels(source: { snapshot(): ChannelKpiSnapshot }): void {
    bindChannels(this.registry, source);
  }

  /**
   * Callbacks (read from the store at scrape time, so the totals survive restarts): requests
   * waiting to be called back, and offers, acceptances and closed requests by outcome since the
   * store began. No ids, no numbers.
   */
  bindAcdCallbacks(source: {
    pending(): number;
    counts(from: number, to: number): Record<'offered' | 'accepted' | 'hungUp' | 'noAnswer' | 'completed' | 'failed' | 'cancelled', number>;
  }): void {
    acd.bindAcdCallbacks(this.registry, source);
  }

  /** Routing decisions POSTed to `routing.webhook.url`, by outcome (read at scrape time). */
  bindRoutingWebhook(w: { counters(): { delivered: number; rejected: number; failed: number; dropped: number } }): void {
    new Counter({
      name: 'edgevox_routing_webhook_deliveries_total',
      help: 'Routing decisions POSTed to routing.webhook.url by outcome (rejected = 3xx/4xx, failed = after maxAttempts, dropped = queue full or closing)',
      labelNames: ['outcome'],
      registers: [this.registry],
      collect() {
        this.reset();
        const c = w.counters();
        for (const outcome of ['delivered', 'rejected', 'failed', 'dropped'] as const) this.inc({ outcome }, c[outcome]);
      },
    });
  }

  /** Alert pushes (routing.alerts.webhook / .email) by channel and outcome; dropped = queue full or closing. */
  bindAlertPush(p: {
    counters(): Partial<Record<'webhook' | 'email', { delivered: number; rejected: number; failed: number; dropped: number }>>;
  }): void {
    new Counter({
      name: 'edgevox_alert_push_total',
      help: 'Alert pushes by channel (webhook, email) and outcome (delivered; rejected = 4xx or SMTP 5xx; failed = after maxAttempts; dropped = queue full or closing)',
      labelNames: ['channel', 'outcome'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [channel, c] of Object.entries(p.counters()))
          for (const outcome of ['delivered', 'rejected', 'failed', 'dropped'] as const) this.inc({ channel, outcome }, c[outcome]);
      },
    });
  }

  /**
   * The ACD's own work (acd.mode acd): offers to agents by outcome, calls the box ended instead of
   * queueing further, callbacks callers asked for, and the delay the box's bridge adds between
   * caller and agent (each bridged call's p95 and max, socket in to socket out). No call or agent ids.
   */
  bindAcdCalls(source: TypedEmitter<AcdEvents>): void {
    acd.bindAcdCalls(this.registry, source);
  }

  /**
   * Supervision of SIP-agent calls (acd/supervision.ts): sessions whose supervisor's phone answered,
   * by the mode they started in; mode changes by the new mode; and the delay the mixer added while
   * mixed (each session's p95 and max, socket in to mixed send). No call or agent ids.
   */
  bindSupervision(source: TypedEmitter<SupervisionEvents>): void {
    acd.bindSupervision(this.registry, source);
  }

  /**
   * Agents' phones on the box's registrar (read at scrape time): agents with a registered contact,
   * contacts in all, and REGISTERs refused by reason (a wrong password, a blocked address, ...).
   * The first 401 of a registration is a challenge, not a refusal. No agent ids or usernames.
   */
  bindAgentRegistrations(registrar: { readonly counters: RegistrarCounters; readonly size: { agents: number; bindings: number } }): void {
    const registers = [this.registry];
    new Gauge({
      name: 'edgevox_agents_registered',
      help: 'Agents with at least one SIP contact registered with the box',
      registers,
      collect() {
        this.set(registrar.size.agents);
      },
    });
    new Gauge({
      name: 'edgevox_sip_registrations',
      help: "SIP contacts registered with the box (agents' phones and softphones)",
      registers,
      collect() {
        this.set(registrar.size.bindings);
      },
    });
    new Counter({
      name: 'edgevox_sip_registration_refusals_total',
      help: 'REGISTER requests the registrar refused, by reason (auth: a wrong password or a third-party registration)',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        const c = registrar.counters;
        this.inc({ reason: 'auth' }, c.authFailures);
        this.inc({ reason: 'rate_limited' }, c.rateLimited);
        this.inc({ reason: 'malformed' }, c.malformed);
        this.inc({ reason: 'interval_too_brief' }, c.intervalTooBrief);
        this.inc({ reason: 'out_of_order' }, c.outOfOrder);
        this.inc({ reason: 'not_found' }, c.notFound);
        this.inc({ reason: 'bad_extension' }, c.badExtension);
        this.inc({ reason: 'lookup_error' }, c.lookupErrors);
      },
    });
  }

  /** QA scorecards by skill group: calls scored, calls passed, pass ratio (ops.bindQa). */
  bindQa(repo: Parameters<typeof ops.bindQa>[1], bus: Parameters<typeof ops.bindQa>[2]): void {
    ops.bindQa(this.registry, repo, bus);
  }

  /** Open supervisor alerts by severity (ops.bindOpenAlerts). */
  bindOpenAlerts(source: Parameters<typeof ops.bindOpenAlerts>[1]): void {
    ops.bindOpenAlerts(this.registry, source);
  }

  /** The service-level threshold T overall and per group (ops.bindServiceLevelThreshold). */
  bindServiceLevelThreshold(source: Parameters<typeof ops.bindServiceLevelThreshold>[1]): void {
    ops.bindServiceLevelThreshold(this.registry, source);
  }

  /** Free and total space of the data directory's file system (ops.bindDataDisk). */
  bindDataDisk(dataDir: string): void {
    ops.bindDataDisk(this.registry, dataDir);
  }

  /** Redactions made in transcripts, by category; mirrors the redactor's totals. */
  bindRedactions(totals: Readonly<Record<string, number>>): void {
    new Counter({
      name: 'edgevox_redactions_total',
      help: 'Personal data replaced by placeholders in transcripts, by category',
      labelNames: ['category'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [category, n] of Object.entries(totals)) this.inc({ category }, n);
      },
    });
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * prom-client's defaults export three gauges with a `_total` suffix, which the Prometheus naming
 * rules (and `promtool check metrics`) reserve for counters. Replace them with correctly named gauges.
 */
function replaceMisnamedDefaults(registry: Registry): void {
  const probes: Record<string, { help: string; read: () => number }> = {
    nodejs_active_handles: { help: 'Number of active libuv handles', read: () => activeCount('_getActiveHandles') },
    nodejs_active_requests: { help: 'Number of active libuv requests', read: () => activeCount('_getActiveRequests') },
    nodejs_active_resources: {
      help: 'Number of active resources keeping the event loop alive',
      read: () => process.getActiveResourcesInfo().length,
    },
  };
  for (const [name, probe] of Object.entries(probes)) {
    registry.removeSingleMetric(`${name}_total`);
    registry.removeSingleMetric(name);
    new Gauge({
      name,
      help: probe.help,
      registers: [registry],
      collect() {
        this.set(probe.read());
      },
    });
  }
}

function activeCount(fn: '_getActiveHandles' | '_getActiveRequests'): number {
  const getter = (process as unknown as Record<string, (() => unknown[]) | undefined>)[fn];
  return typeof getter === 'function' ? getter.call(process).length : 0;
}

/** End reasons become label values: keep them to a small, fixed vocabulary. */
const END_REASONS = new Set([
  'bye',
  'cancel',
  'shutdown',
  'timeout',
  'rtp-timeout',
  'error',
  'rejected',
  'transfer',
  'appliance-crashed',
  'appliance-restarted',
  'hangup',
]);
function normaliseReason(reason: string): string {
  const r = reason.toLowerCase();
  return END_REASONS.has(r) ? r : 'other';
}

/** A language as a metric label: en, zh or auto; anything else (never expected) is 'other', so the label stays bounded. */
function languageLabel(language: string): string {
  return language === 'en' || language === 'zh' || language === 'auto' ? language : 'other';
}
