// The alerts page's pure parts: the list query from the filters, the mute setting (remembered in
// localStorage) and which events sound.

export type AlertView = 'active' | 'open' | 'acknowledged' | 'resolved' | 'all';
export const ALERT_VIEWS: readonly AlertView[] = ['active', 'open', 'acknowledged', 'resolved', 'all'];
export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export const KINDS = [
  'caller_angry',
  'caller_escalating',
  'caller_complaint_risk',
  'queue_wait',
  'intent_spike',
  'topic_rising',
  'forecast_deviation',
] as const;

export interface AlertFilters {
  view: AlertView;
  severity: '' | (typeof SEVERITIES)[number];
  kind: string;
  /** datetime-local values (the browser's time zone); '' = no bound. */
  since: string;
  until: string;
}

export const DEFAULT_FILTERS: AlertFilters = { view: 'active', severity: '', kind: '', since: '', until: '' };

/** The GET /api/v1/alerts query string for these filters. */
export function alertsQuery(f: AlertFilters, limit: number, before?: number): string {
  const q = new URLSearchParams({ limit: String(limit) });
  if (f.view === 'active') q.set('state', 'open,acknowledged');
  else if (f.view !== 'all') q.set('state', f.view);
  if (f.severity) q.set('severity', f.severity);
  if (f.kind) q.set('kind', f.kind);
  const since = f.since ? Date.parse(f.since) : NaN;
  const until = f.until ? Date.parse(f.until) : NaN;
  if (Number.isFinite(since)) q.set('since', String(since));
  if (Number.isFinite(until)) q.set('until', String(until));
  if (before !== undefined) q.set('before', String(before));
  return q.toString();
}

export const MUTE_KEY = 'evx.alerts.muted';

/** The part of localStorage used here (this module is also type-checked without the DOM library). */
interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}
const browserStorage = (): KeyValueStore | undefined => (globalThis as { localStorage?: KeyValueStore }).localStorage;

export function isMuted(storage: Pick<KeyValueStore, 'getItem'> | undefined = browserStorage()): boolean {
  try {
    return storage?.getItem(MUTE_KEY) === '1';
  } catch {
    return false;
  }
}

export function setMuted(muted: boolean, storage: Pick<KeyValueStore, 'setItem'> | undefined = browserStorage()): void {
  try {
    storage?.setItem(MUTE_KEY, muted ? '1' : '0');
  } catch {
    // storage refused (private mode): the choice lasts for this page only
  }
}

/** Whether an event from /api/v1/events should sound: a new critical alert, not muted. */
export function shouldSound(e: { type?: unknown; severity?: unknown }, muted: boolean): boolean {
  return !muted && e.type === 'alert' && e.severity === 'critical';
}
