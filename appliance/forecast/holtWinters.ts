/**
 * Holt-Winters exponential smoothing with a damped additive trend and multiplicative seasonality
 * (Hyndman & Athanasopoulos, "Forecasting: Principles and Practice", section 8.3), used on daily
 * totals with a weekly season. Missing observations (NaN: unknown or a special day) do not update
 * the state; an observation far from its one-step forecast is clipped (robust to an unannounced
 * holiday or outage). Parameters are chosen on the history by the smallest mean absolute one-step
 * error over a fixed grid.
 */

export interface HoltWintersParams {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

export interface HoltWintersState {
  level: number;
  trend: number;
  /** The last m seasonal indices; season[i] belongs to step (t + 1 + i) mod m ahead. */
  season: number[];
  phi: number;
  /** Mean absolute one-step error over the fitted span (NaN when nothing was scored). */
  mae: number;
}

/** How far (in running mean absolute relative errors) an observation may sit before it is clipped. */
const CLIP_AT = 4;

/**
 * Run the recursions over y with period m and return the final state. The first two seasons
 * initialise it (level: mean of season 1; trend: difference of the season means / m; indices:
 * each value over its season's mean, averaged over the two seasons).
 */
export function holtWintersRun(y: number[], m: number, p: HoltWintersParams, robust = true): HoltWintersState {
  const init = initialise(y, m);
  let { level, trend } = init;
  const season = init.season.slice();
  let absErr = 0;
  let scored = 0;
  let relErr = 0.15;
  for (let t = 2 * m; t < y.length; t++) {
    const s = season[t % m]!;
    const base = level + p.phi * trend;
    const fc = base * s;
    let obs = y[t]!;
    if (!Number.isFinite(obs)) {
      level = base;
      trend = p.phi * trend;
      continue;
    }
    if (fc > 0) {
      const e = (obs - fc) / fc;
      absErr += Math.abs(obs - fc);
      scored++;
      if (robust && Math.abs(e) > CLIP_AT * relErr) obs = fc * (1 + Math.sign(e) * CLIP_AT * relErr);
      relErr = 0.9 * relErr + 0.1 * Math.min(Math.abs(e), 1);
    }
    if (s > 1e-9 && base > 0) {
      const newLevel = p.alpha * (obs / s) + (1 - p.alpha) * base;
      trend = p.beta * (newLevel - level) + (1 - p.beta) * p.phi * trend;
      level = Math.max(newLevel, 0);
      season[t % m] = p.gamma * (obs / base) + (1 - p.gamma) * s;
    } else if (base > 0) {
      // A season index of zero (a closed weekday): the level learns nothing; the index may open up.
      season[t % m] = p.gamma * (obs / base) + (1 - p.gamma) * s;
      level = base;
      trend = p.phi * trend;
    } else {
      level = obs > 0 ? obs : 0;
      trend = 0;
    }
  }
  const n = y.length;
  // Rotate so season[i] is the index of step n + i.
  const rotated = Array.from({ length: m }, (_, i) => season[(n + i) % m]!);
  return { level, trend, season: rotated, phi: p.phi, mae: scored > 0 ? absErr / scored : NaN };
}

/** Forecast h = 1.. steps ahead from a final state. */
export function holtWintersForecast(state: HoltWintersState, steps: number): number[] {
  const out: number[] = [];
  let damp = 0;
  let phiPow = 1;
  for (let h = 1; h <= steps; h++) {
    phiPow *= state.phi;
    damp += phiPow;
    const s = state.season[(h - 1) % state.season.length]!;
    out.push(Math.max(0, (state.level + damp * state.trend) * s));
  }
  return out;
}

const GRID: HoltWintersParams[] = [];
for (const alpha of [0.05, 0.1, 0.2, 0.3, 0.5, 0.7])
  for (const beta of [0, 0.02, 0.1]) for (const gamma of [0.02, 0.1, 0.2, 0.35]) GRID.push({ alpha, beta, gamma, phi: 0.9 });

/** Fit on the grid by the smallest mean absolute one-step error; null when under two seasons plus one. */
export function holtWintersFit(y: number[], m: number): HoltWintersState | null {
  if (y.length < 2 * m + 1 || !canInitialise(y, m)) return null;
  let best: HoltWintersState | null = null;
  for (const p of GRID) {
    const s = holtWintersRun(y, m, p);
    if (best === null || (Number.isFinite(s.mae) && !(s.mae >= best.mae))) best = s;
  }
  return best;
}

function canInitialise(y: number[], m: number): boolean {
  let known = 0;
  for (let i = 0; i < 2 * m; i++) if (Number.isFinite(y[i])) known++;
  return known >= m;
}

function initialise(y: number[], m: number): { level: number; trend: number; season: number[] } {
  const mean = (from: number) => {
    let s = 0;
    let k = 0;
    for (let i = from; i < from + m; i++) {
      const v = y[i];
      if (v !== undefined && Number.isFinite(v)) {
        s += v;
        k++;
      }
    }
    return k > 0 ? s / k : NaN;
  };
  let m1 = mean(0);
  let m2 = mean(m);
  if (!Number.isFinite(m1)) m1 = m2;
  if (!Number.isFinite(m2)) m2 = m1;
  const season: number[] = [];
  for (let i = 0; i < m; i++) {
    const r: number[] = [];
    const a = y[i];
    const b = y[i + m];
    if (a !== undefined && Number.isFinite(a) && m1 > 0) r.push(a / m1);
    if (b !== undefined && Number.isFinite(b) && m2 > 0) r.push(b / m2);
    season.push(r.length > 0 ? r.reduce((s, x) => s + x, 0) / r.length : 1);
  }
  // Level at the end of the second season, trend per step.
  const trend = (m2 - m1) / m;
  return { level: m2 + (trend * (m - 1)) / 2, trend, season };
}
