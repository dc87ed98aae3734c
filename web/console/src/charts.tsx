// Hand-drawn SVG charts (no chart library): vertical bars over time, horizontal bars, a donut.
import { fmtNumber, fmtPercent, t } from '../../i18n/i18n.js';

const PALETTE = ['#2563eb', '#16a34a', '#f59e0b', '#dc2626', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#ea580c', '#475569'];

export function BarChart(props: {
  data: { label: string; value: number }[];
  title: string;
  unit?: string;
  testId?: string;
  height?: number;
}) {
  const h = props.height ?? 160;
  const w = 480;
  const max = Math.max(1, ...props.data.map((d) => d.value));
  const bw = props.data.length === 0 ? 0 : (w - 40) / props.data.length;
  return (
    <figure class="chart" data-testid={props.testId} data-total={props.data.reduce((sum, d) => sum + d.value, 0)}>
      <figcaption>{props.title}</figcaption>
      {props.data.every((d) => d.value === 0) ? <p class="empty">{t('charts:noData')}</p> : null}
      <svg viewBox={`0 0 ${w} ${h + 30}`} role="img" aria-label={props.title}>
        <line x1="34" y1={h} x2={w} y2={h} stroke="#94a3b8" />
        <text x="30" y="12" text-anchor="end" class="axis">
          {fmtNumber(max)}
        </text>
        <text x="30" y={h} text-anchor="end" class="axis">
          0
        </text>
        {props.data.map((d, i) => {
          const bh = (d.value / max) * (h - 10);
          return (
            <g key={d.label}>
              <rect x={40 + i * bw + 2} y={h - bh} width={Math.max(1, bw - 4)} height={bh} fill={PALETTE[0]} rx="2">
                <title>{t('charts:valueOf', { label: d.label, value: `${fmtNumber(d.value)}${props.unit ?? ''}` })}</title>
              </rect>
              {props.data.length <= 12 || i % Math.ceil(props.data.length / 12) === 0 ? (
                <text x={40 + i * bw + bw / 2} y={h + 16} text-anchor="middle" class="axis">
                  {d.label}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export function HBarChart(props: { data: { label: string; value: number }[]; title: string; testId?: string }) {
  const max = Math.max(1, ...props.data.map((d) => d.value));
  const rowH = 24;
  const w = 480;
  return (
    <figure class="chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      {props.data.length === 0 ? <p class="empty">{t('charts:noData')}</p> : null}
      <svg viewBox={`0 0 ${w} ${Math.max(rowH, props.data.length * rowH)}`} role="img" aria-label={props.title}>
        {props.data.map((d, i) => (
          <g key={d.label}>
            <text x="150" y={i * rowH + 16} text-anchor="end" class="axis">
              {d.label}
            </text>
            <rect
              x="158"
              y={i * rowH + 4}
              width={((w - 200) * d.value) / max}
              height={rowH - 8}
              fill={PALETTE[(i + 1) % PALETTE.length]}
              rx="2"
            />
            <text x={162 + ((w - 200) * d.value) / max} y={i * rowH + 16} class="axis">
              {fmtNumber(d.value)}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

export function Donut(props: { data: { label: string; value: number }[]; title: string; testId?: string }) {
  const total = props.data.reduce((s, d) => s + d.value, 0);
  let angle = -Math.PI / 2;
  const r = 60;
  const cx = 80;
  const cy = 80;
  return (
    <figure class="chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      {total === 0 ? <p class="empty">{t('charts:noData')}</p> : null}
      <svg viewBox="0 0 340 160" role="img" aria-label={props.title}>
        {total === 0 ? <circle cx={cx} cy={cy} r={r} fill="none" stroke="#e2e8f0" stroke-width="24" /> : null}
        {props.data.map((d, i) => {
          const a = (d.value / total) * Math.PI * 2;
          const x1 = cx + r * Math.cos(angle);
          const y1 = cy + r * Math.sin(angle);
          angle += a;
          const x2 = cx + r * Math.cos(angle);
          const y2 = cy + r * Math.sin(angle);
          const large = a > Math.PI ? 1 : 0;
          const path =
            a >= Math.PI * 2 - 1e-6
              ? `M ${cx} ${cy - r} A ${r} ${r} 0 1 1 ${cx - 0.01} ${cy - r}`
              : `M ${x1} ${y1} A ${r} ${r} 0 ${large} 1 ${x2} ${y2}`;
          return <path key={d.label} d={path} fill="none" stroke={PALETTE[i % PALETTE.length]} stroke-width="24" />;
        })}
        {props.data.map((d, i) => (
          <g key={`l-${d.label}`}>
            <rect x="170" y={10 + i * 20} width="12" height="12" fill={PALETTE[i % PALETTE.length]} />
            <text x="188" y={21 + i * 20} class="axis">{`${d.label} ${fmtPercent(total ? d.value / total : 0)}`}</text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

/** A small line of recent values (e.g. the emotion trend of a live call: arousal or valence). */
export function Sparkline(props: { values: number[]; min?: number; max?: number; label: string }) {
  const w = 160;
  const h = 32;
  const min = props.min ?? Math.min(...props.values, 0);
  const max = props.max ?? Math.max(...props.values, 1);
  const pts = props.values
    .map((v, i) => `${(i / Math.max(1, props.values.length - 1)) * w},${h - ((v - min) / Math.max(1e-9, max - min)) * h}`)
    .join(' ');
  return (
    <svg class="spark" viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.label}>
      <polyline points={pts} fill="none" stroke="#2563eb" stroke-width="2" />
    </svg>
  );
}
