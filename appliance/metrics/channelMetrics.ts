/**
 * KPIs of the text channels (conversations/channelKpis.ts) as Prometheus gauges, read at scrape
 * time. Labels: channel (chat | email) and group (the operator's skill group ids, `unrouted`); a
 * series without `group` is the whole channel. Never conversation, agent or customer ids.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ChannelFigures, ChannelKpiSnapshot } from '../conversations/channelKpis.js';

const GAUGES: readonly { name: string; help: string; value: (f: ChannelFigures) => number | null }[] = [
  {
    name: 'edgevox_channel_waiting',
    help: 'Conversations waiting for an agent (offered or not yet routed, not accepted)',
    value: (f) => f.waiting,
  },
  {
    name: 'edgevox_channel_longest_wait_seconds',
    help: 'Oldest current wait of a conversation not accepted yet (0 when none waits)',
    value: (f) => f.longestWaitingS ?? 0,
  },
  { name: 'edgevox_channel_active', help: 'Conversations an agent holds', value: (f) => f.active },
  { name: 'edgevox_channel_open', help: 'Open conversations (waiting + held); for e-mail the open cases', value: (f) => f.open },
  {
    name: 'edgevox_channel_first_responses',
    help: "Conversations started in the window (edgevox_channel_first_response_window_seconds) with an agent's first reply",
    value: (f) => f.firstResponse.count,
  },
  {
    name: 'edgevox_channel_first_response_p50_seconds',
    help: "Median time from the customer's first message to the agent's first reply over the window (absent without replies)",
    value: (f) => f.firstResponse.p50S,
  },
  {
    name: 'edgevox_channel_first_response_p95_seconds',
    help: "95th percentile time from the customer's first message to the agent's first reply over the window (absent without replies)",
    value: (f) => f.firstResponse.p95S,
  },
];

/** Registers the per-channel gauges; one snapshot serves a scrape (the source caches it). */
export function bindChannels(registry: Registry, source: { snapshot(): ChannelKpiSnapshot }): void {
  const registers = [registry];
  for (const g of GAUGES) {
    new Gauge({
      name: g.name,
      help: g.help,
      labelNames: ['channel', 'group'],
      registers,
      collect() {
        this.reset();
        const s = source.snapshot();
        for (const [channel, f] of Object.entries(s.channels)) {
          const v = g.value(f);
          if (v !== null) this.set({ channel }, v);
        }
        for (const [channel, byGroup] of Object.entries(s.groups)) {
          for (const [group, f] of Object.entries(byGroup)) {
            const v = g.value(f);
            if (v !== null) this.set({ channel, group }, v);
          }
        }
      },
    });
  }
  new Gauge({
    name: 'edgevox_channel_first_response_window_seconds',
    help: 'The window of the first-response figures (conversations started within it)',
    registers,
    collect() {
      this.set(source.snapshot().windowS);
    },
  });
}
