// Forecast vs actual of one skill group (hand-drawn SVG like charts.tsx): the plan as a line, today's
// re-forecast dashed, the actual calls of closed intervals as bars, times in the site's zone.
import { fmtNumber, t } from '../../i18n/i18n.js';
import { linePath, niceMax, totals, type ForecastPoint } from './forecastModel.js';

const W = 960;
const H = 220;
const LEFT = 44;

export function ForecastChart(props: { points: ForecastPoint[]; timeZone: string; language: string; title: string }) {
  const pts = props.points;
  const max = niceMax(pts.flatMap((p) => [p.forecast, p.reforecast ?? 0, p.actual ?? 0]));
  const bw = pts.length === 0 ? 0 : (W - LEFT - 8) / pts.length;
  const x = (i: number) => LEFT + i * bw + bw / 2;
  const y = (v: number) => H - (v / max) * (H - 12);
  const sum = totals(pts);
  const span = pts.length > 1 ? pts[pts.length - 1]!.start - pts[0]!.start : 0;
  const multiDay = span >= 86_400_000;
  const label = new Intl.DateTimeFormat(
    props.language,
    multiDay
      ? { timeZone: props.timeZone, month: 'numeric', day: 'numeric' }
      : { timeZone: props.timeZone, hour: '2-digit', minute: '2-digit' },
  );
  // about 8 labels across
  const every = Math.max(1, Math.ceil(pts.length / 8));
  return (
    <figure
      class="chart forecast-chart"
      data-testid="forecast-chart"
      data-points={pts.length}
      data-forecast-total={Math.round(sum.forecast)}
      data-actual-total={sum.actual}
    >
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H + 28}`} role="img" aria-label={props.title}>
        <line x1={LEFT - 4} y1={H} x2={W} y2={H} stroke="#94a3b8" />
        <text x={LEFT - 8} y="12" text-anchor="end" class="axis">
          {fmtNumber(max)}
        </text>
        <text x={LEFT - 8} y={H} text-anchor="end" class="axis">
          0
        </text>
        {pts.map((p, i) =>
          p.actual === null ? null : (
            <rect
              key={p.start}
              class="actual-bar"
              x={LEFT + i * bw + 1}
              y={y(p.actual)}
              width={Math.max(1, bw - 2)}
              height={H - y(p.actual)}
              fill="#16a34a"
              opacity="0.7"
            >
              <title>{t('forecast:chart.actualAt', { time: label.format(p.start), calls: fmtNumber(p.actual) })}</title>
            </rect>
          ),
        )}
        <path
          d={linePath(
            pts.map((p) => p.forecast),
            x,
            y,
          )}
          fill="none"
          stroke="#2563eb"
          stroke-width="2"
          data-testid="forecast-line"
        />
        <path
          d={linePath(
            pts.map((p) => p.reforecast),
            x,
            y,
          )}
          fill="none"
          stroke="#f59e0b"
          stroke-width="2"
          stroke-dasharray="6 4"
          data-testid="reforecast-line"
        />
        {pts.map((p, i) =>
          i % every === 0 ? (
            <text key={`l${p.start}`} x={x(i)} y={H + 18} text-anchor="middle" class="axis">
              {label.format(p.start)}
            </text>
          ) : null,
        )}
      </svg>
      <ul class="legend">
        <li>
          <span class="swatch" style="background:#2563eb" /> {t('forecast:chart.forecast', { calls: fmtNumber(sum.forecast) })}
        </li>
        <li>
          <span class="swatch" style="background:#f59e0b" /> {t('forecast:chart.reforecast')}
        </li>
        <li>
          <span class="swatch" style="background:#16a34a" />{' '}
          {t('forecast:chart.actual', { calls: fmtNumber(sum.actual), planned: fmtNumber(sum.forecastOfActual) })}
        </li>
      </ul>
    </figure>
  );
}
